"""Rituals end to end: signed Slack requests to the real server, posts and DMs through the fake Slack."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.communities.models import Role
from copbot.outbox.models import OutboxMessage
from copbot.rituals.models import (
    Attendance,
    FacilitatorAsk,
    Occurrence,
    PulseAnswer,
    RitualSchedule,
    ScheduleStatus,
)
from copbot.runtime import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, datepicker, plain, radio, static, timepicker, view_shape

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "rituals"))
from rituals_helpers import (
    ZONE,
    add_member,
    blocks_text,
    dms,
    live_cycle,
    live_sessions,
    make_community,
    occurrences,
    posts,
    run_tick,
    started_sessions,
)

pytestmark = pytest.mark.e2e


def wait_until(check: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait for work a lazy listener does after the ack."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the listener did not finish in time")
        time.sleep(0.02)


def count(engine: Engine, model: type, *where: object) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def click(slack: SlackSender, fake_slack: FakeSlack, action: str, value: str, user: str, **extra: str) -> str:
    """Click a button and return the ephemeral answer."""
    name = f"r{time.monotonic_ns()}"
    slack.block_action(action, value=value, user_id=user, response_url=fake_slack.response_url(name), **extra)
    call = fake_slack.wait_for_call(lambda c: c.method == "response_url" and c.params.get("_path") == name)
    return call.params.get("text", "")


def reminder_posted(runtime: Runtime, session: Session) -> Occurrence:
    """Tick now (occurrences are recorded ahead), then when the first session's reminder is due."""
    run_tick(runtime, datetime.now(UTC))
    occurrence = occurrences(session)[0]
    run_tick(runtime, occurrence.starts_at - timedelta(minutes=30))
    return occurrence


def future(days: int) -> date:
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(ZoneInfo(ZONE)).date()


# --- RSVP and attendance ---------------------------------------------------------------------------


def test_rsvp_counts_update_in_place(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    community = make_community(session)
    live_sessions(session, community, first=future(7), now=datetime.now(UTC))
    occurrence = reminder_posted(runtime, session)
    (post,) = posts(fake_slack)
    for user in ("U2", "U3"):
        assert "you are going" in click(slack, fake_slack, "ritual_rsvp_going", str(occurrence.id), user)
    assert "can't make it" in click(slack, fake_slack, "ritual_rsvp_cant", str(occurrence.id), "U3")
    click(slack, fake_slack, "ritual_rsvp_async", str(occurrence.id), "U4")
    click(slack, fake_slack, "ritual_rsvp_async", str(occurrence.id), "U4")  # the same again changes nothing
    runtime.sender.drain()
    updates = fake_slack.calls_to("chat.update")
    # Four edits were owed before the sender ran: one chat.update, with the latest counts, stands for all
    assert len(updates) == 1 and {u.params["channel"] for u in updates} == {"C1"}
    message = fake_slack.messages_in("C1")[0]
    rendered = json.dumps(message["blocks"])
    assert "1 going" in rendered and "1 can't make it" in rendered and "1 async" in rendered
    assert post.params["text"] == message["text"]
    with Session(engine) as check:
        rows = {a.user_id: a.rsvp for a in check.scalars(select(Attendance))}
    assert rows == {"U2": "going", "U3": "cant", "U4": "async"}


def test_i_was_there_once_the_session_started(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    started_sessions(session, make_community(session))
    run_tick(runtime, datetime.now(UTC))
    (post,) = posts(fake_slack)
    assert "I was there" in blocks_text(post)  # posted late within grace: attendance already open
    occurrence = occurrences(session)[0]
    assert "counted as there" in click(slack, fake_slack, "ritual_attended", str(occurrence.id), "U2")
    assert "already counted" in click(slack, fake_slack, "ritual_attended", str(occurrence.id), "U2")
    runtime.sender.drain()
    assert "1 were there" in json.dumps(fake_slack.messages_in("C1")[0]["blocks"])
    assert count(engine, Attendance, Attendance.attended.is_(True)) == 1


def test_i_was_there_before_the_start_is_refused(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    community = make_community(session)
    live_sessions(session, community, first=future(7), now=datetime.now(UTC))
    run_tick(runtime, datetime.now(UTC))
    occurrence = occurrences(session)[0]
    assert "not started yet" in click(slack, fake_slack, "ritual_attended", str(occurrence.id), "U2")
    assert count(engine, Attendance) == 0


# --- pulse -----------------------------------------------------------------------------------------


def test_pulse_is_anonymous_and_shows_aggregates_from_three_answers(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    community = make_community(session)
    now = datetime.now(UTC)
    live_cycle(
        session,
        community,
        kickoff=now + timedelta(days=2),
        midpoint=now + timedelta(days=9),
        finale=now + timedelta(days=20),
        now=now,
    )
    run_tick(runtime, now + timedelta(days=9, minutes=1))
    midpoint = next(o for o in occurrences(session) if o.kind == "midpoint")
    for user, score in (("U2", 4), ("U3", 5)):
        assert "anonymously" in click(
            slack, fake_slack, f"ritual_pulse_{score}", str(midpoint.id), user, block_id="ritual_pulse_value"
        )
    runtime.sender.drain()
    message = next(m for m in fake_slack.messages_in("C1") if "Mid-point" in m["text"])
    assert "average *" not in json.dumps(message["blocks"])  # two answers: no aggregate yet
    click(slack, fake_slack, "ritual_pulse_3", str(midpoint.id), "U4", block_id="ritual_pulse_value")
    click(slack, fake_slack, "ritual_pulse_1", str(midpoint.id), "U4", block_id="ritual_pulse_safety")
    runtime.sender.drain()
    message = next(m for m in fake_slack.messages_in("C1") if "Mid-point" in m["text"])
    rendered = json.dumps(message["blocks"])
    assert "average *4.0* / 5 from 3 answers" in rendered
    assert "1 answered" in rendered  # safety: one answer, no average
    with Session(engine) as check:
        stored = check.scalars(select(PulseAnswer)).all()
    assert len(stored) == 4
    assert not any(u in json.dumps([a.respondent for a in stored]) for u in ("U2", "U3", "U4"))


# --- rotation --------------------------------------------------------------------------------------


def _rotation_setup(session: Session, runtime: Runtime) -> None:
    community = make_community(session)
    for user in ("U2", "U3", "U4"):
        add_member(session, community, user, rotation=True)
    live_sessions(session, community, first=future(10), now=datetime.now(UTC), rotation_days=3)


def _asks(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as check:
        return [
            (a.user_id, a.status) for a in check.scalars(select(FacilitatorAsk).order_by(FacilitatorAsk.id))
        ]


def _ask_id(engine: Engine, user: str) -> str:
    with Session(engine) as check:
        return str(check.scalar(select(FacilitatorAsk.id).where(FacilitatorAsk.user_id == user)))


def test_rotation_accept_names_the_facilitator(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _rotation_setup(session, runtime)
    run_tick(runtime, datetime.now(UTC) + timedelta(days=8))  # within three days of the session
    (dm,) = dms(fake_slack, "U2")
    text = blocks_text(dm)
    assert (
        "Prep checklist" in text
        and "ritual_accept" in text
        and "ritual_swap" in text
        and "ritual_skip" in text
    )
    assert "Thank you" in click(slack, fake_slack, "ritual_accept", _ask_id(engine, "U2"), "U2")
    runtime.sender.drain()
    assert "You accepted" in json.dumps(fake_slack.messages_in("DU2")[0]["blocks"])  # updated in place
    occurrence = occurrences(session)[0]
    assert occurrence.facilitator_id == "U2"
    run_tick(runtime, occurrence.starts_at - timedelta(minutes=30))
    assert "<@U2>" in blocks_text(posts(fake_slack)[-1])
    assert "someone else" in click(slack, fake_slack, "ritual_accept", _ask_id(engine, "U2"), "U3")


def test_rotation_skip_and_swap_move_to_the_next(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _rotation_setup(session, runtime)
    run_tick(runtime, datetime.now(UTC) + timedelta(days=8))
    click(slack, fake_slack, "ritual_skip", _ask_id(engine, "U2"), "U2")
    runtime.sender.drain()
    assert len(dms(fake_slack, "U3")) == 1
    click(slack, fake_slack, "ritual_swap", _ask_id(engine, "U3"), "U3")
    runtime.sender.drain()
    assert _asks(engine) == [("U2", "skipped"), ("U3", "swapped"), ("U4", "asked")]
    assert "someone else" in click(slack, fake_slack, "ritual_accept", _ask_id(engine, "U4"), "U2")
    click(slack, fake_slack, "ritual_accept", _ask_id(engine, "U4"), "U4")
    # U3 swapped with U4: U3 now comes right after U4 and facilitates the following session.
    reply = slack.command("/cop", "rotation").json()
    order = json.dumps(reply["blocks"])
    assert order.index("<@U2>") < order.index("<@U4>") < order.index("<@U3>")


def test_rotation_no_answer_gets_one_reminder_then_the_lead(
    session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _rotation_setup(session, runtime)
    at = datetime.now(UTC) + timedelta(days=8)
    run_tick(runtime, at)
    run_tick(runtime, at + timedelta(hours=25))
    run_tick(runtime, at + timedelta(hours=26))
    assert len(dms(fake_slack, "U2")) == 2 and "Reminder" in blocks_text(dms(fake_slack, "U2")[1])
    assert dms(fake_slack, "U1") == []
    run_tick(runtime, at + timedelta(hours=38))
    run_tick(runtime, at + timedelta(hours=39))
    (escalation,) = dms(fake_slack, "U1")
    assert "has not answered" in blocks_text(escalation) and "<@U2>" in blocks_text(escalation)


def test_away_members_are_passed_by(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _rotation_setup(session, runtime)
    session_day = future(10)
    reply = slack.command(
        "/cop", f"away {session_day - timedelta(days=2)} {session_day + timedelta(days=2)}", user_id="U2"
    ).json()
    assert "You are away" in reply["text"]
    refused = slack.command("/cop", "away 2030-01-05 2030-01-01", user_id="U2").json()["text"]
    assert "end date comes before" in refused
    run_tick(runtime, datetime.now(UTC) + timedelta(days=8))
    assert dms(fake_slack, "U2") == [] and len(dms(fake_slack, "U3")) == 1


# --- schedule modal, listing, exclusions, preview --------------------------------------------------


def _sessions_values(first: date, at: str = "15:00", **overrides: dict) -> dict:
    values = {
        "ritual_title": {"ritual_title": plain("Incident drills")},
        "ritual_frequency": {"ritual_frequency": static("weekly")},
        "ritual_first_date": {"ritual_first_date": datepicker(first.isoformat())},
        "ritual_time": {"ritual_time": timepicker(at)},
        "ritual_alt_time": {"ritual_alt_time": timepicker(None)},
        "ritual_duration": {"ritual_duration": static("60")},
        "ritual_rotation_days": {"ritual_rotation_days": static("3")},
    }
    values.update(overrides)
    return values


def _cycle_values(kickoff: date, midpoint: date, finale: date, kickoff_time: str = "10:00") -> dict:
    values = {"ritual_title": {"ritual_title": plain("Spring")}, "ritual_plan": {"ritual_plan": plain(None)}}
    for name, day, at in (
        ("kickoff", kickoff, kickoff_time),
        ("midpoint", midpoint, "10:00"),
        ("finale", finale, "10:00"),
    ):
        values[f"ritual_{name}_date"] = {f"ritual_{name}_date": datepicker(day.isoformat())}
        values[f"ritual_{name}_time"] = {f"ritual_{name}_time": timepicker(at)}
    return values


def _submit(slack: SlackSender, view: str, values: dict, user: str = "U1") -> dict:
    metadata = json.dumps({"channel_id": "C1", "schedule_id": None})
    return slack.view_submission(view, values, user_id=user, private_metadata=metadata).json()


def test_schedule_opens_the_modal_for_editors_only(
    slack: SlackSender, session: Session, fake_slack: FakeSlack
) -> None:
    make_community(session)
    slack.command("/cop", "schedule sessions", trigger_id="t1")
    (opened,) = fake_slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "ritual_sessions_modal"
    slack.command("/cop", "join", user_id="U2")
    slack.command("/cop", "schedule cycle", user_id="U2", response_url=fake_slack.response_url("denied"))
    (denied,) = fake_slack.wait_for("response_url")
    assert "Only a lead or a facilitator" in denied.params["text"]


def test_sessions_modal_field_errors_store_nothing(
    slack: SlackSender, session: Session, engine: Engine
) -> None:
    make_community(session)
    past = _submit(slack, "ritual_sessions_modal", _sessions_values(date(2020, 1, 6)))
    assert past["response_action"] == "errors" and "past" in past["errors"]["ritual_first_date"]
    gap_day = date(datetime.now(UTC).year + 1, 3, 31)
    gap_day -= timedelta(days=(gap_day.weekday() + 1) % 7)  # the last Sunday of March: clocks go forward
    gap = _submit(slack, "ritual_sessions_modal", _sessions_values(gap_day, at="02:30"))
    assert gap["response_action"] == "errors" and "does not exist" in gap["errors"]["ritual_time"]
    missing = _submit(
        slack, "ritual_sessions_modal", _sessions_values(future(3), ritual_title={"ritual_title": plain("")})
    )
    assert "ritual_title" in missing["errors"]
    assert count(engine, RitualSchedule) == 0


def test_cycle_modal_finale_before_kickoff(slack: SlackSender, session: Session, engine: Engine) -> None:
    make_community(session)
    reply = _submit(slack, "ritual_cycle_modal", _cycle_values(future(20), future(25), future(10)))
    assert reply["response_action"] == "errors"
    assert "after the kickoff" in reply["errors"]["ritual_finale_date"]
    assert count(engine, RitualSchedule) == 0


def test_schedule_saved_as_draft_then_preview_live_pause_delete(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    make_community(session)
    reply = _submit(slack, "ritual_cycle_modal", _cycle_values(future(5), future(12), future(20)))
    assert reply["response_action"] == "update" and "draft" in json.dumps(reply["view"])
    with Session(engine) as check:
        schedule = check.scalars(select(RitualSchedule)).one()
    assert schedule.status == ScheduleStatus.DRAFT
    run_tick(runtime, datetime.now(UTC) + timedelta(days=6))
    assert posts(fake_slack) == []  # a draft posts nothing

    assert "on its way" in click(slack, fake_slack, "ritual_preview", str(schedule.id), "U1")
    runtime.sender.drain()
    previews = dms(fake_slack, "U1")
    assert len(previews) == 4  # the intro, then kickoff, mid-point and finale as members will see them
    assert "Kickoff: Spring" in blocks_text(previews[1]) and posts(fake_slack) == []

    listing = slack.command("/cop", "schedule").json()
    assert "draft" in json.dumps(listing["blocks"]) and "ritual_go_live" in json.dumps(listing["blocks"])
    assert "is live" in slack.command("/cop", f"schedule live {schedule.id}").json()["text"]
    assert "paused" in slack.command("/cop", f"schedule pause {schedule.id}").json()["text"]
    assert "is live" in slack.command("/cop", f"schedule resume {schedule.id}").json()["text"]
    assert "Deleted" in slack.command("/cop", f"schedule delete {schedule.id}").json()["text"]
    assert count(engine, RitualSchedule) == 0


def test_a_member_sees_the_rituals_but_no_buttons_they_cannot_use(
    slack: SlackSender, session: Session, runtime: Runtime
) -> None:
    community = make_community(session)
    add_member(session, community, "U2")
    live_sessions(session, community, first=future(7), now=datetime.now(UTC))
    run_tick(runtime, datetime.now(UTC))  # the coming sessions are recorded
    _submit(slack, "ritual_cycle_modal", _cycle_values(future(5), future(12), future(20)) | _then("draft"))
    member = slack.command("/cop", "schedule", user_id="U2").json()
    shown = json.dumps(member["blocks"])
    assert "Incident drills" in shown and "live" in shown and "<!date^" in shown
    assert "Spring" not in shown  # a draft is the planners' business
    assert not [b for b in member["blocks"] if b["type"] == "actions"]
    assert "ritual_" not in shown and "Plan a cycle" not in shown
    lead = json.dumps(slack.command("/cop", "schedule", user_id="U1").json()["blocks"])
    assert "Spring" in lead and "ritual_go_live" in lead and "ritual_new_cycle" in lead


def _then(choice: str) -> dict:
    return {"ritual_then": {"ritual_then": radio(choice)}}


def test_the_schedule_modal_goes_live_by_default_and_says_what_is_posted_when(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    make_community(session)
    slack.command("/cop", "schedule sessions", trigger_id="t1")
    (opened,) = fake_slack.wait_for("views.open")
    modal = opened.params["view"]
    assert modal["submit"]["text"] == "Save and go live"
    (then,) = [b for b in modal["blocks"] if b.get("block_id") == "ritual_then"]
    assert then["element"]["initial_option"]["value"] == "live" and then["dispatch_action"] is True

    # Choosing "draft" relabels the submit button in place, keeping what was typed.
    ((view_id, stored),) = fake_slack.views.items()
    slack.block_action(
        "ritual_then",
        block_id="ritual_then",
        action_type="radio_buttons",
        extra_action={"selected_option": {"value": "draft", "text": {"type": "plain_text", "text": "x"}}},
        view=view_shape(
            "ritual_sessions_modal",
            values=_sessions_values(future(7)) | _then("draft"),
            private_metadata=modal["private_metadata"],
            view_id=view_id,
            hash=stored["hash"],
        ),
    )
    (relabelled,) = fake_slack.wait_for("views.update")
    assert relabelled.outcome == "ok" and relabelled.params["view_id"] == view_id
    assert relabelled.params["view"]["submit"]["text"] == "Save as draft"

    # Submitted as it comes: live at once, and the saved view lists the coming posts in the reader's time.
    reply = _submit(slack, "ritual_sessions_modal", _sessions_values(future(7)) | _then("live"))
    shown = json.dumps(reply["view"])
    assert "is live" in shown and "I'll post in <#C1>" in shown and "the session reminder" in shown
    assert shown.count("<!date^") >= 5 and "ritual_go_live" not in shown
    with Session(engine) as check:
        assert check.scalars(select(RitualSchedule)).one().status == ScheduleStatus.ACTIVE
    reminder_posted(runtime, session)
    assert posts(fake_slack)  # it posts without anyone finding "Go live"

    # "Preview to me" keeps a draft and sends the preview by DM.
    reply = _submit(slack, "ritual_sessions_modal", _sessions_values(future(9)) | _then("preview"))
    shown = json.dumps(reply["view"])
    assert "saved as a draft: nothing is posted until it goes live" in shown and "on its way" in shown
    assert "ritual_go_live" in shown
    runtime.sender.drain()
    assert len(dms(fake_slack, "U1")) == 2  # the intro and the session reminder as members will see it


def test_exclusion_skips_the_session_with_a_note(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    community = make_community(session)
    day = future(7)
    live_sessions(session, community, first=day, now=datetime.now(UTC))
    reply = slack.command("/cop", f"schedule skip {day} {day} team offsite").json()
    assert "No sessions on" in reply["text"]
    assert "Only a lead" in slack.command("/cop", f"schedule skip {day}", user_id="U7").json()["text"]
    reminder_posted(runtime, session)
    notes = posts(fake_slack)
    assert len(notes) == 1 and "No *Incident drills* session" in blocks_text(notes[0])
    assert "team offsite" in blocks_text(notes[0])
    assert count(engine, Occurrence, Occurrence.stage == "excluded") == 1


def test_archived_channel_pauses_schedules_and_tells_the_lead(
    session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    community = make_community(session)
    live_sessions(session, community, first=future(7), now=datetime.now(UTC))
    fake_slack.archived.add("C1")
    reminder_posted(runtime, session)
    with Session(engine) as check:
        schedule = check.scalars(select(RitualSchedule)).one()
        failed = check.scalars(select(OutboxMessage).where(OutboxMessage.key.like("ritual:%:post"))).one()
    assert schedule.status == ScheduleStatus.PAUSED and schedule.paused_reason == "channel archived"
    assert failed.status == "failed" and failed.last_error == "is_archived"
    (dm,) = dms(fake_slack, "U1")
    assert "archived" in blocks_text(dm)


def test_rotation_command_opt_in_out_and_order(slack: SlackSender, session: Session) -> None:
    community = make_community(session)
    add_member(session, community, "U2")
    add_member(session, community, "U3", role=Role.FACILITATOR)
    add_member(session, community, "U4")
    assert "Join the community first" in slack.command("/cop", "rotation in", user_id="U9").json()["text"]
    # The facilitator role is the rotation.
    assert "already in the facilitator rotation" in _cop(slack, "rotation in", "U3")
    joined = _cop(slack, "rotation in", "U2")
    assert "You are in the facilitator rotation of *Incident Guild* (2 of 2)" in joined
    assert "Only a lead or a facilitator" in _cop(slack, "rotation order <@U3|c> <@U2|b>", "U4")
    reply = slack.command("/cop", "rotation order <@U3|c> <@U2|b>", user_id="U3").json()
    listing = json.dumps(reply["blocks"])
    assert listing.index("<@U3>") < listing.index("<@U2>")
    assert "out of the facilitator rotation" in _cop(slack, "rotation out", "U2")
    assert "<@U2>" not in json.dumps(slack.command("/cop", "rotation").json()["blocks"])
    assert "were not in the facilitator rotation" in _cop(slack, "rotation out", "U2")


def test_every_door_into_the_rotation_is_one(
    slack: SlackSender, session: Session, engine: Engine, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    """`/cop facilitate on`, `/cop rotation in` and a lead's grant put people in the one rotation that is
    asked to facilitate; `/cop facilitate off` and a lead's removal take them out."""
    community = make_community(session)
    for user in ("U2", "U3", "U4"):
        add_member(session, community, user)
    assert "You are in the facilitator rotation of *Incident Guild* (1 of 1)" in _cop(
        slack, "facilitate on", "U2"
    )
    assert "(2 of 2)" in _cop(slack, "rotation in", "U3")
    granted = _cop(slack, "role <@U4|d> facilitator", "U1")
    assert "is now a *facilitator*" in granted and "in the facilitator rotation" in granted
    listing = json.dumps(slack.command("/cop", "rotation").json()["blocks"])
    assert listing.index("<@U2>") < listing.index("<@U3>") < listing.index("<@U4>")
    roles = json.dumps(slack.command("/cop", "roles").json()["blocks"])
    assert all(f"<@{u}>" in roles for u in ("U2", "U3", "U4"))
    assert "already in the facilitator rotation" in _cop(slack, "facilitate on", "U3")
    assert "out of the facilitator rotation" in _cop(slack, "facilitate off", "U2")
    assert "out of the facilitator rotation" in _cop(slack, "role <@U3|c> -facilitator", "U1")
    assert "Usage" in _cop(slack, "facilitate maybe", "U2")

    # The one left is the one asked: the lead's grant counts, as the others did.
    live_sessions(session, community, first=future(10), now=datetime.now(UTC), rotation_days=3)
    run_tick(runtime, datetime.now(UTC) + timedelta(days=8))
    assert [user for user, _ in _asks(engine)] == ["U4"]
    assert dms(fake_slack, "U4")
    # Back in: the old place is kept.
    _cop(slack, "facilitate on", "U2")
    listing = json.dumps(slack.command("/cop", "rotation").json()["blocks"])
    assert listing.index("<@U2>") < listing.index("<@U4>")


def _cop(slack: SlackSender, text: str, user: str) -> str:
    return slack.command("/cop", text, user_id=user).json()["text"]


def test_help_lists_the_rituals_commands(slack: SlackSender) -> None:
    listing = json.dumps(slack.command("/cop", "help").json()["blocks"])
    for usage in ("/cop schedule", "/cop rotation", "/cop away"):
        assert usage in listing
