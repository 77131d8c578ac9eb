"""`/cop help` end to end: grouped by what people want to do, short, leads' commands for leads only,
and `/cop help <topic>` for the detail."""

from __future__ import annotations

import re

import pytest
from slack_bolt import App
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from copbot.communities import service as communities
from copbot.features import FEATURES
from copbot.runtime import Runtime
from copbot.slack.commands import CopRouter, Topic
from tests.fakes.slack_client import SlackSender

pytestmark = pytest.mark.e2e

LEADS_ONLY = ("`/cop setup`", "`/cop role`", "`/cop export`", "`/cop digest`", "`/cop retention`")


@pytest.fixture
def guild(engine: Engine) -> None:
    form = communities.CommunityForm.parse({"name": "Guild", "purpose": "Learn together.", "timezone": "UTC"})
    with Session(engine) as session:
        communities.save_community(session, team_id="T1", channel_id="C1", user_id="ULEAD", form=form)
        communities.join(session, team_id="T1", channel_id="C1", user_id="UMEM")
        session.commit()


def _text(reply: dict) -> str:
    return "\n".join(
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in reply["blocks"]
    )


def test_a_member_sees_short_groups_without_the_leads_commands(slack: SlackSender, guild: None) -> None:
    reply = slack.command("/cop", "help", user_id="UMEM").json()
    assert reply["response_type"] == "ephemeral"
    shown = _text(reply)
    titles = ["Capture what you learn", "Recognise someone", "Meet", "Learn", "You"]
    assert [shown.index(t) for t in titles] == sorted(shown.index(t) for t in titles)
    for name in ("/postmortem", "/nominate", "/cop schedule", "/cop rotation", "/cop search", "/cop ask"):
        assert name in shown
    assert not any(usage in shown for usage in LEADS_ONLY) and "Lead" not in shown
    assert len(shown) < 1100  # it was one 2,050-character section
    sections = [b for b in reply["blocks"] if b["type"] == "section"]
    assert len(sections) == 5 and all(len(s["text"]["text"]) < 250 for s in sections)


def test_a_lead_also_sees_the_leads_commands(slack: SlackSender, guild: None) -> None:
    shown = _text(slack.command("/cop", "help", user_id="ULEAD").json())
    assert ":compass: *Lead*" in shown and all(usage in shown for usage in LEADS_ONLY)
    detail = _text(slack.command("/cop", "help lead", user_id="ULEAD").json())
    assert "`/cop retention &lt;months&gt;|off`  delete raw records older than this" in detail


def test_a_topic_gives_the_detail_with_one_syntax(slack: SlackSender, guild: None) -> None:
    detail = _text(slack.command("/cop", "help capture", user_id="UMEM").json())
    assert "`/postmortem [title]`  write an after-action review or postmortem" in detail
    assert "_Capture as after-action review_" in detail and "`/cop playbook [new]`" in detail
    assert "`&lt;word&gt;`: yours to fill in" in detail
    assert "<" not in detail.replace("<@", "")  # placeholders are escaped: Slack would read `<x>` as a link
    # a command's name finds its topic; the old upper-case placeholders are gone
    meet = _text(slack.command("/cop", "help schedule", user_id="UMEM").json())
    assert "`/cop away &lt;from&gt; &lt;to&gt;`" in meet and "FROM" not in meet
    assert "Recognise someone" in _text(slack.command("/cop", "help recognize", user_id="UMEM").json())


def test_a_member_asking_for_a_leads_topic_is_told_who_leads(slack: SlackSender, guild: None) -> None:
    shown = _text(slack.command("/cop", "help retention", user_id="UMEM").json())
    assert "is for this community's leads: <@ULEAD>" in shown
    assert "/cop retention" not in shown.split("\n", 1)[1]
    unknown = _text(slack.command("/cop", "help zebra", user_id="UMEM").json())
    assert "There is no help topic `zebra`" in unknown


def test_outside_a_community_help_says_how_to_start_one(slack: SlackSender) -> None:
    shown = _text(slack.command("/cop", "help", channel_id="C9").json())
    assert "`/cop setup` makes this channel its home" in shown and "/cop retention" not in shown


def test_every_listed_command_has_exactly_one_topic(runtime: Runtime) -> None:
    app = App(signing_secret="s", token="xoxb-x", token_verification_enabled=False)
    router = CopRouter()
    for feature in FEATURES:
        feature.register(app, runtime.deps, router)
    grouped = [e.usage for t in Topic for e in router.entries(t)]
    assert {s.usage for s in router.listed} <= set(grouped) and len(grouped) == len(set(grouped))
    # one syntax: <placeholders> in lower case, never the old NAME / FROM / MONTHS
    assert not [u for u in grouped if u.startswith("/") and re.search(r"\b[A-Z]{2,}\b", u)]
