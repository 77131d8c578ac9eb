"""Render a Block Kit message or view as plain text a reviewer can read in a diff.

Slack markup is spelled out: `<@U1>` is `@U1`, `<#C1>` is `#C1`, `<url|label>` is `label (url)`, and
`<!date^…|fallback>` is `[date: fallback]` (each reader sees their own time zone). Interactive elements
show their label and their action id, so a reviewer sees which button does what.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

_TOKEN = re.compile(r"<([^<>]+)>")
WIDTH = 100


def markup(text: str) -> str:
    """Spell out Slack's `<…>` tokens and entities."""

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("@"):
            return inner
        if inner.startswith("#"):
            return inner.split("|", 1)[0]
        if inner.startswith("!date^"):
            return f"[date: {inner.rsplit('|', 1)[-1]}]"
        if inner.startswith("!"):
            return f"@{inner[1:].split('|', 1)[0]}"
        url, _, label = inner.partition("|")
        return f"{label} ({url})" if label else url

    spelled = _TOKEN.sub(one, text)
    return spelled.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    return markup(obj["text"]) if obj.get("type") == "mrkdwn" else obj["text"]


def _indent(label: str, body: str) -> list[str]:
    """`label` then `body`, wrapped, continuation lines under the body."""
    pad = " " * len(label)
    lines: list[str] = []
    for n, paragraph in enumerate(body.split("\n") or [""]):
        wrapped = textwrap.wrap(paragraph, WIDTH - len(label), break_on_hyphens=False) or [""]
        for m, piece in enumerate(wrapped):
            lines.append((label if n == 0 and m == 0 else pad) + piece)
    return lines


def element(item: dict[str, Any]) -> str:
    """One interactive element on one line."""
    kind = item.get("type", "?")
    action = item.get("action_id", "")
    if kind == "button":
        style = f" {item['style']}" if item.get("style") else ""
        confirm = " (asks to confirm)" if item.get("confirm") else ""
        return f"[{_text(item['text'])}]{style} → {action}{confirm}"
    if kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"):
        options = [_text(o["text"]) for o in item.get("options", [])]
        chosen = item.get("initial_option")
        picked = f", chosen: {_text(chosen['text'])}" if chosen else ""
        shown = " | ".join(options[:8]) + (f" | …{len(options) - 8} more" if len(options) > 8 else "")
        return f"<{kind}: {shown}{picked}> → {action}"
    initial = next(
        (
            item[key]
            for key in ("initial_value", "initial_date", "initial_time", "initial_user", "initial_users")
            if item.get(key)
        ),
        None,
    )
    placeholder = _text(item.get("placeholder"))
    shown = f" = {json.dumps(initial, ensure_ascii=False)}" if initial else ""
    hint = f" ({placeholder})" if placeholder and not initial else ""
    return f"<{kind}{shown}{hint}> → {action}"


def block(item: dict[str, Any]) -> list[str]:
    """One block as lines of text."""
    kind = item["type"]
    if kind == "divider":
        return ["────"]
    if kind == "header":
        return [f"# {_text(item['text'])}"]
    if kind == "section":
        lines = _indent("", _text(item.get("text"))) if item.get("text") else []
        for f in item.get("fields", []):
            lines += _indent("  · ", _text(f))
        if item.get("accessory"):
            lines.append(f"  ↳ {element(item['accessory'])}")
        return lines
    if kind == "context":
        return _indent("(", " ".join(_text(e) if "text" in e else "[image]" for e in item["elements"]) + ")")
    if kind == "actions":
        return ["  ".join(element(e) for e in item["elements"])]
    if kind == "input":
        optional = " (optional)" if item.get("optional") else ""
        lines = [f"{_text(item['label'])}{optional}: {element(item['element'])}"]
        if item.get("hint"):
            lines += _indent("    hint: ", _text(item["hint"]))
        return lines
    if kind == "image":
        return [f"[image: {item.get('alt_text', '')}]"]
    return [f"[{kind}]"]


def render(payload: dict[str, Any]) -> str:
    """A message (with its notification text) or a view, as readable text."""
    lines: list[str] = []
    if payload.get("type") in ("modal", "home"):
        if payload["type"] == "modal":
            buttons = " ".join(f"[{_text(payload[k])}]" for k in ("close", "submit") if payload.get(k))
            lines += [f"┌ modal: {_text(payload['title'])}    {buttons}".rstrip()]
        else:
            lines += ["┌ App Home"]
    else:
        lines += _indent("┌ notification: ", markup(payload.get("text", "")))
    for item in payload.get("blocks", []):
        lines += [f"│ {line}".rstrip() for line in block(item)]
    lines.append("└")
    return "\n".join(lines) + "\n"
