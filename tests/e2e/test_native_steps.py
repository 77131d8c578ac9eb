"""Workflow Builder custom steps end to end: signed function_executed events to the real server, the
steps' effects in the database, and functions.completeSuccess / completeError at the fake Slack."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot import manifest
from copbot.feature import Person
from copbot.native import handlers as native
from copbot.native.ids import Function
from copbot.native.models import StepRun, StepStatus
from copbot.recognition.models import Nomination, Nominee
from copbot.reviews.models import Review
from copbot.rituals.models import Attendance, FacilitatorAsk
from copbot.runtime import Runtime
from tests.fakes.slack_api import Call, FakeSlack, FunctionExecution
from tests.fakes.slack_client import SlackSender, fresh_execution_id, function_executed_event

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "rituals"))
from rituals_helpers import ZONE, add_member, live_sessions, make_community, run_tick, started_sessions

pytestmark = pytest.mark.e2e

COMPLETIONS = ("functions.completeSuccess", "functions.completeError")


def definition(callback_id: str) -> dict[str, Any]:
    """The step's definition as the manifest declares it (what Slack puts in the event)."""
    return yaml.safe_load(manifest.render())["functions"][callback_id]


def start_step(
    slack: SlackSender,
    fake_slack: FakeSlack,
    callback_id: str,
    inputs: dict[str, Any],
    execution_id: str = "",
) -> FunctionExecution:
    """Slack starts a step: it records the execution, then sends the signed function_executed event."""
    declared = definition(callback_id)
    required = tuple(declared["output_parameters"].get("required", []))
    execution_id = execution_id or fresh_execution_id()
    token = f"xwfp-{execution_id.lower()}"
    if execution_id not in fake_slack.executions:
        fake_slack.start_execution(execution_id, token=token, required_outputs=required)
    event = function_executed_event(
        callback_id, inputs, definition=declared, execution_id=execution_id, bot_access_token=token
    )
    assert slack.event(event).status_code == 200
    return fake_slack.executions[execution_id]


def answer(fake_slack: FakeSlack, execution: FunctionExecution, runtime: Runtime | None = None) -> Call:
    """The step's answer to Slack (delivering the outbox meanwhile, as the sender loop would)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [
            c
            for c in fake_slack.calls
            if c.method in COMPLETIONS and c.params.get("function_execution_id") == execution.execution_id
        ]
        if found:
            return found[-1]
        if runtime is not None:
            runtime.sender.drain()
        time.sleep(0.02)
    raise AssertionError("the step never answered")


def count(engine: Engine, model: type) -> int:
    with Session(engine) as check:
        return check.scalar(select(func.count()).select_from(model))


LESSON = {
    "channel": "C1",
    "author": "U2",
    "title": "Rollbacks need a runbook",
    "what_happened": "The deploy failed and nobody knew the rollback steps.",
    "lesson": "Write the rollback steps before the deploy.\nRehearse them once a quarter.",
}


# --- Capture a lesson ------------------------------------------------------------------------------


def test_capture_a_lesson_posts_the_review_and_outputs_its_link(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    make_community(session)
    execution = start_step(slack, fake_slack, Function.CAPTURE_LESSON, LESSON)
    call = answer(fake_slack, execution, runtime)
    assert call.method == "functions.completeSuccess" and call.outcome == "ok"
    assert call.token == execution.token  # answered with the step's own workflow token
    (post,) = fake_slack.messages_in("C1")
    assert execution.outputs == {
        "permalink": f"https://example.slack.com/archives/C1/p{post['ts'].replace('.', '')}"
    }
    with Session(engine) as check:
        review = check.scalars(select(Review)).one()
        run = check.scalars(select(StepRun)).one()
    assert (review.author_id, review.title) == ("U2", "Rollbacks need a runbook")
    assert [lesson.text for lesson in review.lessons] == [
        "Write the rollback steps before the deploy.",
        "Rehearse them once a quarter.",
    ]
    assert "Rollbacks need a runbook" in post["text"]
    assert (run.status, run.user_id, run.outputs["permalink"]) == (
        StepStatus.COMPLETED,
        "U2",
        execution.outputs["permalink"],
    )


def test_capture_a_lesson_fails_the_step_like_the_modal_and_stores_nothing(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    make_community(session)
    execution = start_step(
        slack, fake_slack, Function.CAPTURE_LESSON, {**LESSON, "title": "x", "lesson": " "}
    )
    call = answer(fake_slack, execution, runtime)
    assert call.method == "functions.completeError" and execution.state == "failed"
    assert "Title: Give the review a title of at least 3 characters." in execution.error
    assert "Lesson: Write at least one lesson" in execution.error
    assert count(engine, Review) == 0 and fake_slack.messages_in("C1") == []


def test_a_step_in_a_channel_without_a_community_says_how_to_make_one(
    slack: SlackSender, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    execution = start_step(slack, fake_slack, Function.CAPTURE_LESSON, {**LESSON, "channel": "C9"})
    answer(fake_slack, execution, runtime)
    assert execution.state == "failed" and "<#C9> has no community yet" in execution.error
    assert "/cop setup" in execution.error


def test_the_same_execution_twice_captures_once_and_answers_the_same(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    make_community(session)
    execution = start_step(slack, fake_slack, Function.CAPTURE_LESSON, LESSON)
    first = answer(fake_slack, execution, runtime)
    fake_slack.clear()
    start_step(slack, fake_slack, Function.CAPTURE_LESSON, LESSON, execution_id=execution.execution_id)
    again = answer(fake_slack, execution, runtime)
    assert again.params["outputs"] == first.params["outputs"]
    assert again.outcome == "error:execution_not_in_running_state"  # Slack already had the answer
    assert count(engine, Review) == 1 and count(engine, StepRun) == 1
    assert len(fake_slack.messages_in("C1")) == 1


# --- Recognise someone -----------------------------------------------------------------------------

THANKS = {
    "channel": "C1",
    "nominator": "U2",
    "nominee": "U3",
    "value": "mentoring",
    "story": "Paired with me for two afternoons on the incident tooling.",
    "impact": "I now run the on-call handover alone.",
}


def test_recognise_someone_stores_the_nomination_and_tells_the_nominee(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    make_community(session)
    execution = start_step(slack, fake_slack, Function.RECOGNISE, THANKS)
    call = answer(fake_slack, execution, runtime)
    assert call.method == "functions.completeSuccess" and execution.outputs == {}
    with Session(engine) as check:
        nomination = check.scalars(select(Nomination)).one()
        nominees = check.scalars(select(Nominee.user_id)).all()
    assert (nomination.nominator_id, nomination.value, nominees) == ("U2", "Mentoring", ["U3"])
    runtime.sender.drain()
    assert any(c.params.get("channel") == "DU3" for c in fake_slack.calls_to("chat.postMessage"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"nominee": "U2"}, "Who: You can't nominate yourself"),
        ({"value": "Speed"}, "Value: use one of this community's values: Curiosity, Generosity"),
        ({"story": "Thanks", "impact": "!"}, "What they did: Tell a little more"),
        ({"nominee": "UROBOT"}, "Who: Only people can be recognised"),
    ],
)
def test_recognise_someone_checks_like_the_modal(
    slack: SlackSender,
    session: Session,
    runtime: Runtime,
    fake_slack: FakeSlack,
    engine: Engine,
    change: dict[str, str],
    expected: str,
) -> None:
    make_community(session)
    fake_slack.add_user("UROBOT", is_bot=True)
    execution = start_step(slack, fake_slack, Function.RECOGNISE, {**THANKS, **change})
    answer(fake_slack, execution, runtime)
    assert execution.state == "failed" and expected in execution.error
    assert count(engine, Nomination) == 0


# --- Pick the next facilitator ---------------------------------------------------------------------


def test_pick_the_next_facilitator_asks_the_next_in_line_once(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    community = make_community(session)
    for user in ("U2", "U3"):
        add_member(session, community, user, rotation=True)
    first = (datetime.now(UTC) + timedelta(days=10)).astimezone(ZoneInfo(ZONE)).date()
    live_sessions(session, community, first=first, now=datetime.now(UTC))
    run_tick(runtime, datetime.now(UTC))  # records the coming sessions
    execution = start_step(slack, fake_slack, Function.PICK_FACILITATOR, {"channel": "C1"})
    answer(fake_slack, execution, runtime)
    assert execution.outputs == {"facilitator": "U2"}
    again = start_step(slack, fake_slack, Function.PICK_FACILITATOR, {"channel": "C1"})
    answer(fake_slack, again, runtime)
    assert again.outputs == {"facilitator": "U2"}  # asked already: not asked twice, nobody else asked
    with Session(engine) as check:
        assert [(a.user_id, a.status) for a in check.scalars(select(FacilitatorAsk))] == [("U2", "asked")]
    runtime.sender.drain()
    assert [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")].count("DU2") == 1


def test_pick_the_next_facilitator_without_sessions_fails_clearly(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    make_community(session)
    execution = start_step(slack, fake_slack, Function.PICK_FACILITATOR, {"channel": "C1"})
    answer(fake_slack, execution, runtime)
    assert execution.state == "failed" and "no session coming" in execution.error


# --- Log attendance --------------------------------------------------------------------------------


def _started_session(session: Session, runtime: Runtime) -> datetime:
    start = started_sessions(session, make_community(session))
    run_tick(runtime, datetime.now(UTC))
    return start


def test_log_attendance_counts_the_member_at_the_latest_session(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    start = _started_session(session, runtime)
    execution = start_step(slack, fake_slack, Function.LOG_ATTENDANCE, {"channel": "C1", "user": "U5"})
    answer(fake_slack, execution, runtime)
    assert execution.state == "completed"
    dated = start_step(
        slack,
        fake_slack,
        Function.LOG_ATTENDANCE,
        {"channel": "C1", "user": "U6", "session_date": start.date().isoformat()},
    )
    answer(fake_slack, dated, runtime)
    with Session(engine) as check:
        attended = check.scalars(select(Attendance.user_id).where(Attendance.attended.is_(True))).all()
    assert sorted(attended) == ["U5", "U6"]


def test_log_attendance_for_a_day_without_a_session_fails_clearly(
    slack: SlackSender, session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _started_session(session, runtime)
    execution = start_step(
        slack,
        fake_slack,
        Function.LOG_ATTENDANCE,
        {"channel": "C1", "user": "U5", "session_date": "2020-01-06"},
    )
    answer(fake_slack, execution, runtime)
    assert execution.state == "failed" and "no session on Mon 06 Jan 2020" in execution.error
    bad = start_step(
        slack, fake_slack, Function.LOG_ATTENDANCE, {"channel": "C1", "user": "U5", "session_date": "soon"}
    )
    answer(fake_slack, bad, runtime)
    assert "Session date: “soon” is not a date" in bad.error
    assert count(engine, Attendance) == 0


# --- privacy ---------------------------------------------------------------------------------------


def test_step_runs_are_covered_by_forget_me_and_retention(session: Session, engine: Engine) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    session.add_all(
        [
            StepRun(team_id="T1", execution_id="Fx1", callback_id="c", user_id="U2", status="completed"),
            StepRun(
                team_id="T1",
                execution_id="Fx2",
                callback_id="pick_facilitator",
                status="completed",
                outputs={"facilitator": "U2"},
            ),
            StepRun(team_id="T1", execution_id="Fx3", callback_id="c", user_id="U3", status="completed"),
            StepRun(
                team_id="T1",
                execution_id="Fx4",
                callback_id="c",
                user_id="U4",
                status="failed",
                created_at=old,
            ),
        ]
    )
    session.commit()
    native.forget_user(session, Person("T1", "U2"))
    native.purge_before(session, datetime.now(UTC) - timedelta(days=30), "T1")
    session.commit()
    assert session.scalars(select(StepRun.execution_id)).all() == ["Fx3"]
