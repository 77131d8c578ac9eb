"""Text for Slack: escaping user text for mrkdwn, mentions and links, truncation.

Escaping rule: every piece of user-provided text placed in a mrkdwn field (a `mrkdwn` text object,
and the top-level `text` of a message, which Slack also parses) must pass through `escape`. Slack
expands `<!channel>`, `<!here>`, `<@U…>` and `<url|label>` sequences only in mrkdwn; `plain_text`
fields show text as typed, so they need no escaping (escaping them would show `&amp;` literally).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]+")
# Only the entities `escape` produces; anything else with `&` is plain user text.
_ENTITIES = ("&amp;", "&lt;", "&gt;")


# --- escaping and markup ---------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape user text for mrkdwn so it renders literally and pings no one."""
    # `&` first, or the `&` of `&lt;` would itself be escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """A `<@U…>` mention; refuses anything that is not shaped like a Slack user id."""
    # fullmatch, not `$`: `$` would accept a trailing newline.
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise ValueError(f"not a Slack user id: {user_id!r}")
    return f"<@{user_id}>"


def channel_link(channel_id: str) -> str:
    """A `<#C…>` channel link; refuses anything that is not shaped like a Slack conversation id."""
    if not isinstance(channel_id, str) or not _CHANNEL_ID.fullmatch(channel_id):
        raise ValueError(f"not a Slack channel id: {channel_id!r}")
    return f"<#{channel_id}>"


def link(url: str, label: str) -> str:
    """A `<url|label>` link with the label escaped; refuses non-http(s) urls and urls that break markup."""
    _require_safe_url(url)
    return f"<{url}|{escape(label)}>" if label else f"<{url}>"


def _require_safe_url(url: str) -> None:
    # `|`, `<`, `>` and white space would end the link early and let the rest be read as markup.
    if any(ch in "|<>" or ch.isspace() or not ch.isprintable() for ch in url):
        raise ValueError(f"url contains characters that break Slack markup: {url!r}")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"only http(s) urls may be linked: {url!r}")


def plural(count: int, singular: str, plural: str | None = None) -> str:
    """`1 review`, `2 reviews`, `0 reviews`; irregular plurals are given (`1 person`, `3 people`)."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def local_time(at: datetime, *, style: str = "{date_short_pretty} at {time}") -> str:
    """A `<!date>` token: each reader sees the instant in their own time zone (UTC text as a fallback)."""
    stamp = int(at.timestamp())
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{style}|{fallback}>"


# --- truncation ------------------------------------------------------------------------------------


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut text to at most `limit` characters, ellipsis included, never splitting an escape entity."""
    if limit < 0:
        raise ValueError(f"limit must not be negative: {limit}")
    if len(text) <= limit:
        return text
    if len(ellipsis) >= limit:
        return ellipsis[:limit]
    cut = _word_cut(text, _safe_cut(text, limit - len(ellipsis)))
    return text[:cut] + ellipsis


def _word_cut(text: str, cut: int) -> int:
    """Move `cut` back to the end of a word when it falls inside one, unless that loses over a third."""
    if cut > 0 and not text[cut].isspace() and not text[cut - 1].isspace():
        space = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut))
        if space < cut * 2 // 3:
            return cut  # one long word (a URL, an id): cut it rather than lose most of the text
        cut = space
    return len(text[:cut].rstrip(" \n,;:-"))  # "word…", never "word …" or "word,…"


def _safe_cut(text: str, cut: int) -> int:
    """Move `cut` back so it does not fall inside an `&…;` entity or a `<…>` markup token."""
    # Half an entity renders as `&am`; half a mention or link renders as broken markup.
    amp = text.rfind("&", max(0, cut - len("&amp;") + 1), cut)
    if amp != -1 and any(text.startswith(entity, amp) and amp + len(entity) > cut for entity in _ENTITIES):
        cut = amp
    # After `escape`, a raw `<` can only come from mention/channel_link/link, so it opens a token.
    opening = text.rfind("<", 0, cut)
    if opening != -1 and text.rfind(">", opening, cut) == -1 and text.find(">", cut) != -1:
        cut = opening
    return cut
