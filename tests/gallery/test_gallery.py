"""The transcript gallery: every message and view copbot sends, rendered from fixed data as plain text
into `tests/gallery/transcripts/`, so what people see is reviewed in the diff when it changes.

A transcript that differs from its file fails the test. After a deliberate change, rewrite them with

    COPBOT_UPDATE_GALLERY=1 python -m pytest tests/gallery

and review `git diff tests/gallery/transcripts` like any other change. Each payload is also held to
Slack's limits (`copbot.blockkit.check`) and to slack_sdk's own Block Kit models.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from copbot.blockkit import violations
from copbot.features import FEATURES
from copbot.runtime import Runtime
from copbot.slack.commands import CopRouter
from tests.gallery.action_surfaces import action_surfaces
from tests.gallery.render import render
from tests.gallery.surfaces import pure_surfaces, stored_surfaces

TRANSCRIPTS = Path(__file__).parent / "transcripts"
UPDATE = os.environ.get("COPBOT_UPDATE_GALLERY") == "1"


def _router(runtime: Runtime) -> CopRouter:
    app = App(signing_secret="s", token="xoxb-x", token_verification_enabled=False)
    router = CopRouter()
    for feature in FEATURES:
        feature.register(app, runtime.deps, router)
    return router


def _check(name: str, payload: dict[str, Any]) -> None:
    """Slack's limits, and slack_sdk's models of every block (and of the view)."""
    surface = payload.get("type") if payload.get("type") in ("modal", "home") else "message"
    assert violations(payload, surface=surface) == [], name
    for item in payload["blocks"]:
        Block.parse(item).validate_json()
    if surface != "message":
        View(**payload).validate_json()


def _compare(name: str, payload: dict[str, Any]) -> str | None:
    """Write (when updating) or compare one transcript; the problem, if any."""
    shown = render(payload)
    path = TRANSCRIPTS / f"{name}.txt"
    if UPDATE:
        path.write_text(shown, encoding="utf-8")
        return None
    if not path.exists():
        return f"{name}: no transcript yet (COPBOT_UPDATE_GALLERY=1 writes it)"
    if path.read_text(encoding="utf-8") != shown:
        return f"{name}: differs from {path.name}; review it, then COPBOT_UPDATE_GALLERY=1 to accept"
    return None


def test_the_gallery_matches_what_copbot_sends(runtime: Runtime, session: Session) -> None:
    TRANSCRIPTS.mkdir(exist_ok=True)
    surfaces = {**pure_surfaces(_router(runtime)), **stored_surfaces(session), **action_surfaces()}
    payloads = {name: build() for name, build in surfaces.items()}
    problems = []
    for name, payload in payloads.items():
        _check(name, payload)
        problems.append(_compare(name, payload))
    stale = {p.stem for p in TRANSCRIPTS.glob("*.txt")} - set(payloads)
    if UPDATE:
        for name in stale:
            (TRANSCRIPTS / f"{name}.txt").unlink()
    else:
        problems += [f"{name}.txt: no surface renders it any more" for name in sorted(stale)]
    assert [p for p in problems if p] == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<@U1> in <#C1|guild>", "@U1 in #C1"),
        ("<https://a.example/x|the doc>", "the doc (https://a.example/x)"),
        ("<!date^1773900000^{time}|2026-03-19 06:00 UTC>", "[date: 2026-03-19 06:00 UTC]"),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
    ],
)
def test_the_renderer_spells_out_slack_markup(raw: str, shown: str) -> None:
    text = render({"text": raw, "blocks": []})
    assert text.startswith(f"┌ notification: {shown}")
