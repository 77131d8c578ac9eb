"""The facilitator @handle and the living canvas end to end: `/cop handle|canvas` through the real server,
the rotation moving under `tick`, and the user group and canvas calls the fake Slack receives."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from copbot.feature import Person
from copbot.native import FEATURE
from copbot.native import handlers as native
from copbot.native.models import NativeSettings
from copbot.outbox.models import OutboxMessage
from copbot.outbox.sender import OutboxSender
from copbot.reviews import service as reviews
from copbot.runtime import Runtime
from copbot.scheduling.jobs import JobContext
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "rituals"))
from rituals_helpers import ZONE, add_member, live_sessions, make_community, occurrences, run_tick

pytestmark = pytest.mark.e2e

HANDLE = "cop-incident-guild-facilitator"


def command(slack: SlackSender, text: str, user: str = "U1") -> str:
    reply = slack.command("/cop", text, user_id=user)
    assert reply.status_code == 200
    return reply.json()["text"]


def group(fake_slack: FakeSlack) -> dict:
    (found,) = fake_slack.usergroups.values()
    return found


def settings_row(engine: Engine) -> NativeSettings:
    with Session(engine) as check:
        return check.scalars(select(NativeSettings)).one()


def dm_texts(fake_slack: FakeSlack, user: str) -> list[str]:
    return [
        c.params.get("text", "")
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["channel"] == f"D{user}"
    ]


def _rotation(session: Session) -> datetime:
    """A community (lead U1) whose rotation is U2, U3, U4, with weekly sessions from ten days on."""
    community = make_community(session)
    for user in ("U2", "U3", "U4"):
        add_member(session, community, user, rotation=True)
    first = (datetime.now(UTC) + timedelta(days=10)).astimezone(ZoneInfo(ZONE)).date()
    live_sessions(session, community, first=first, now=datetime.now(UTC), rotation_days=3)
    return datetime.now(UTC)


def _ask(engine: Engine, user: str) -> str:
    from copbot.rituals.models import FacilitatorAsk

    with Session(engine) as check:
        return str(check.scalar(select(FacilitatorAsk.id).where(FacilitatorAsk.user_id == user)))


def _answer(slack: SlackSender, fake_slack: FakeSlack, action: str, ask_id: str, user: str) -> None:
    name = f"answer-{action}-{user}"
    slack.block_action(action, value=ask_id, user_id=user, response_url=fake_slack.response_url(name))
    fake_slack.wait_for_call(lambda c: c.method == "response_url" and c.params.get("_path") == name)


# --- the facilitator @handle -----------------------------------------------------------------------


def test_the_handle_follows_the_rotation_and_is_disabled_never_emptied(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    now = _rotation(session)
    assert f"@{HANDLE} will point at whoever facilitates" in command(slack, "handle on")
    runtime.sender.drain()
    created = fake_slack.calls_to("usergroups.create")[0].params
    assert (created["handle"], created["name"]) == (HANDLE, "Incident Guild facilitator")
    assert group(fake_slack)["date_delete"] and group(fake_slack)["users"] == []  # nobody yet: disabled
    assert fake_slack.calls_to("usergroups.users.update") == []

    run_tick(runtime, now + timedelta(days=8))  # U2 is asked, skips; U3 is asked and accepts
    _answer(slack, fake_slack, "ritual_skip", _ask(engine, "U2"), "U2")
    runtime.sender.drain()
    _answer(slack, fake_slack, "ritual_accept", _ask(engine, "U3"), "U3")
    run_tick(runtime, now + timedelta(days=8, minutes=1))
    assert group(fake_slack)["users"] == ["U3"] and group(fake_slack)["date_delete"] == 0
    assert "<@U3>" in command(slack, "handle")

    session_day = occurrences(session)[0].starts_at.astimezone(ZoneInfo(ZONE)).date()
    command(slack, f"away {session_day} {session_day}", user="U3")
    run_tick(runtime, now + timedelta(days=8, minutes=2))
    assert group(fake_slack)["date_delete"] and group(fake_slack)["users"] == ["U3"]  # disabled, kept
    command(slack, "away clear", user="U3")
    run_tick(runtime, now + timedelta(days=8, minutes=3))
    assert group(fake_slack)["date_delete"] == 0

    ends = occurrences(session)[0].ends_at
    run_tick(runtime, ends + timedelta(minutes=1))  # the session is over; the next has nobody yet
    assert group(fake_slack)["date_delete"] and group(fake_slack)["users"] == ["U3"]
    assert len(fake_slack.calls_to("usergroups.create")) == 1
    assert all(c.outcome == "ok" for c in fake_slack.calls if c.method.startswith("usergroups."))


def test_only_leads_turn_the_handle_on_and_a_bad_handle_is_refused(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    _rotation(session)
    assert "Only a lead" in command(slack, "handle on", user="U2")
    assert "A handle takes lower-case letters" in command(slack, "handle on @Not A Handle!")
    assert "Usage: `/cop handle on [@name]`" in command(slack, "handle maybe")
    runtime.sender.drain()
    assert fake_slack.calls_to("usergroups.create") == []
    assert "@sre-host will point" in command(slack, "handle on @sre-host")


def test_a_workspace_that_refuses_user_groups_tells_the_lead_once(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    now = _rotation(session)
    fake_slack.fail_next("usergroups.create", error="paid_teams_only")
    command(slack, "handle on")
    runtime.sender.drain()
    runtime.sender.drain()
    (told,) = dm_texts(fake_slack, "U1")
    assert "user groups need a paid Slack plan" in told and "/cop handle on" in told
    assert settings_row(engine).handle_refused == "paid_teams_only"
    run_tick(runtime, now + timedelta(minutes=5))
    assert len(fake_slack.calls_to("usergroups.create")) == 1  # copbot stopped trying
    assert "Slack refused it (`paid_teams_only`)" in command(slack, "handle")
    command(slack, "handle on")  # the lead asks again once the plan allows it
    runtime.sender.drain()
    assert len(fake_slack.calls_to("usergroups.create")) == 2 and fake_slack.usergroups


def test_turning_the_handle_off_disables_the_group(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    now = _rotation(session)
    command(slack, "handle on")
    run_tick(runtime, now + timedelta(days=8))
    _answer(slack, fake_slack, "ritual_accept", _ask(engine, "U2"), "U2")
    run_tick(runtime, now + timedelta(days=8, minutes=1))
    assert group(fake_slack)["users"] == ["U2"] and group(fake_slack)["date_delete"] == 0
    assert "no longer kept by copbot" in command(slack, "handle off")
    runtime.sender.drain()
    assert group(fake_slack)["date_delete"]
    run_tick(runtime, now + timedelta(days=8, minutes=2))
    assert len(fake_slack.calls_to("usergroups.disable")) == 2  # at creation (nobody yet), then off


# --- the living canvas -----------------------------------------------------------------------------


def _lesson(session: Session, title: str, lesson: str) -> None:
    from copbot.communities.models import Community

    community = session.scalars(select(Community)).one()
    form = reviews.ReviewForm.parse(
        {
            "template": "after_action",
            "title": title,
            "context": "Game day",
            "happened": "It broke",
            "lessons": lesson,
        }
    )
    reviews.create_review(session, team_id="T1", user_id="U2", community=community, form=form)
    session.commit()


def test_the_canvas_is_made_with_copbots_sections(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    run_tick(runtime, _rotation(session))  # records the coming sessions
    _lesson(session, "Pager storm", "Silence duplicate alerts first.")
    assert "only its own sections" in command(slack, "canvas on")
    runtime.sender.drain()
    (created,) = fake_slack.calls_to("conversations.canvases.create")
    assert created.params["channel_id"] == "C1"
    text = fake_slack.canvas_markdown(fake_slack.channel_canvases["C1"])
    for heading in ("## Charter · copbot", "## Next rituals · copbot", "## Most applied playbooks · copbot"):
        assert heading in text
    assert "**Purpose:** Learn from every incident we run." in text
    assert "Incident drills (Session) · facilitator to be found" in text
    assert "- Silence duplicate alerts first. _(from “Pager storm”)_" in text
    assert settings_row(engine).canvas_id == fake_slack.channel_canvases["C1"]


def test_the_canvas_keeps_what_people_wrote_and_edits_at_most_once_a_minute(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _rotation(session)
    canvas_id = fake_slack.add_channel_canvas("C1", "# Our notes\nBring snacks on Fridays.\n## Links\nwiki")
    command(slack, "canvas on")
    runtime.sender.drain()
    assert fake_slack.calls_to("conversations.canvases.create") == []  # the channel's canvas is reused
    assert len(fake_slack.calls_to("canvases.edit")) == 4  # each section added at the end
    synced = settings_row(engine).canvas_synced_at
    assert synced is not None

    _lesson(session, "Flaky deploys", "Pin the base image.")
    owed = _reconcile(runtime, synced + timedelta(seconds=10))
    assert _sender(runtime, synced + timedelta(seconds=10)).drain().delivered == 0  # not within the minute
    _lesson(session, "Slow rollbacks", "Keep the previous build warm.")
    assert _reconcile(runtime, synced + timedelta(seconds=30)) == 0  # coalesced into the owed edit
    assert owed == 1
    fake_slack.clear()
    assert _sender(runtime, synced + timedelta(seconds=61)).drain().delivered == 1
    edits = fake_slack.calls_to("canvases.edit")
    assert len(edits) == 4 and {e.params["changes"][0]["operation"] for e in edits} == {"replace"}
    text = fake_slack.canvas_markdown(canvas_id)
    assert text.startswith("# Our notes\nBring snacks on Fridays.\n## Links\nwiki\n## Charter · copbot")
    assert "Pin the base image." in text and "Keep the previous build warm." in text  # the latest state
    assert text.count("## Latest lessons · copbot") == 1
    assert _reconcile(runtime, synced + timedelta(seconds=62)) == 0  # nothing changed since


def test_a_refused_canvas_tells_the_lead(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _rotation(session)
    fake_slack.fail_next("conversations.canvases.create", error="team_tier_cannot_create_channel_canvases")
    command(slack, "canvas on")
    runtime.sender.drain()
    runtime.sender.drain()
    (told,) = dm_texts(fake_slack, "U1")
    assert "channel canvases need a paid Slack plan" in told and "/cop canvas on" in told
    assert settings_row(engine).canvas_refused == "team_tier_cannot_create_channel_canvases"
    assert "Slack refused it" in command(slack, "canvas")
    assert "no longer updates the channel canvas" in command(slack, "canvas off")


def _reconcile(runtime: Runtime, at: datetime) -> int:
    """The native job at `at`; how many syncs it owed."""
    with Session(runtime.engine) as check:
        before = len(check.scalars(select(OutboxMessage.id)).all())
    native.reconcile(JobContext(deps=runtime.deps, at=at))
    with Session(runtime.engine) as check:
        return len(check.scalars(select(OutboxMessage.id)).all()) - before


def _sender(runtime: Runtime, at: datetime) -> OutboxSender:
    """An outbox sender whose clock reads `at`."""
    return OutboxSender(
        runtime.deps.sessions,
        runtime.tokens,
        api_url=runtime.settings.slack_api_url,
        syncers=dict(FEATURE.syncers),
        clock=lambda: at,
    )


# --- privacy ---------------------------------------------------------------------------------------


def test_forget_me_drops_the_user_from_the_surfaces_records(session: Session, engine: Engine) -> None:
    community = make_community(session)
    session.add(
        NativeSettings(
            team_id="T1",
            community_id=community.id,
            handle_enabled=True,
            usergroup_users=["U2"],
            changed_by="U2",
        )
    )
    session.commit()
    native.forget_user(session, Person("T1", "U2"))
    session.commit()
    row = settings_row(engine)
    assert (row.usergroup_users, row.changed_by) == ([], None)


def test_cop_help_shows_leads_how_to_turn_them_on(slack: SlackSender, session: Session) -> None:
    make_community(session)  # lead U1 in C1
    for_lead = json.dumps(slack.command("/cop", "help lead", user_id="U1").json())
    assert "/cop handle [on [@name]|off]" in for_lead and "/cop canvas [on|off]" in for_lead
    for_member = json.dumps(slack.command("/cop", "help", user_id="U2").json())
    assert "/cop handle" not in for_member and "/cop canvas" not in for_member
