"""Rituals through `tick` at fixed instants: posted once, at local time across DST, late within grace only."""

from __future__ import annotations

import json
import logging
import threading
from datetime import date, time, timedelta

import pytest
from rituals_helpers import (
    T0,
    blocks_text,
    live_cycle,
    live_sessions,
    make_community,
    occurrences,
    ours,
    posts,
    run_tick,
    utc,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.feature import Person
from copbot.features import FEATURES
from copbot.outbox import service as outbox
from copbot.outbox.models import OutboxMessage
from copbot.rituals import facilitators, privacy, service
from copbot.rituals.ids import SessionAction
from copbot.rituals.jobs import run as rituals_job
from copbot.rituals.models import Stage
from copbot.runtime import Runtime
from copbot.scheduling.jobs import JobContext
from tests.fakes.slack_api import FakeSlack


def test_weekly_session_keeps_local_time_across_spring_forward(
    session: Session, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 22))  # Mondays 09:00 Berlin; DST starts 28 March
    run_tick(runtime, utc(2027, 3, 22, 6, 59))
    assert posts(fake_slack) == []  # the reminder goes out an hour before, not earlier
    run_tick(runtime, utc(2027, 3, 22, 7, 0))
    run_tick(runtime, utc(2027, 3, 22, 7, 0))  # a double tick posts nothing new
    run_tick(runtime, utc(2027, 3, 29, 6, 0))
    starts = [o.starts_at for o in occurrences(session)[:2]]
    assert starts == [utc(2027, 3, 22, 8, 0), utc(2027, 3, 29, 7, 0)]  # 09:00 CET, then 09:00 CEST
    sent = posts(fake_slack)
    assert len(sent) == 2
    # Each reader sees the instant in their own zone: the post carries Slack's date token for it.
    for post, start in zip(sent, starts, strict=True):
        assert f"<!date^{int(start.timestamp())}^{{date_short_pretty}} at {{time}}|" in blocks_text(post)
    assert "09:00 CET" in sent[0].params["text"] and "09:00 CEST" in sent[1].params["text"]


def test_fall_back_keeps_local_time(session: Session, runtime: Runtime, fake_slack: FakeSlack) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 10, 25), now=utc(2027, 10, 1))  # DST ends 31 October
    run_tick(runtime, utc(2027, 10, 25, 6, 30))
    run_tick(runtime, utc(2027, 11, 1, 7, 30))
    assert [o.starts_at for o in occurrences(session)[:2]] == [utc(2027, 10, 25, 7), utc(2027, 11, 1, 8)]
    assert len(posts(fake_slack)) == 2


def test_a_time_in_the_dst_gap_moves_forward_by_the_gap(session: Session, runtime: Runtime) -> None:
    community = make_community(session)
    # Sundays at 02:30: on 28 March 2027 02:30 does not exist in Berlin; the session is at 03:30 CEST.
    live_sessions(session, community, first=date(2027, 3, 21), at=time(2, 30))
    run_tick(runtime, utc(2027, 3, 27, 12))
    starts = [o.starts_at for o in occurrences(session)]
    assert utc(2027, 3, 28, 1, 30) in starts


def test_alternating_slots(session: Session, runtime: Runtime) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 1), at=time(9), alt=time(17))
    run_tick(runtime, utc(2027, 3, 1, 7))
    starts = [o.starts_at.hour for o in occurrences(session)[:3]]
    assert starts == [8, 16, 8]


def test_late_within_grace_posts_once_and_older_is_skipped_and_logged(
    session: Session, runtime: Runtime, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 22))  # starts 08:00 UTC, reminder due 07:00
    run_tick(runtime, utc(2027, 3, 22, 8, 50))  # down for nearly two hours, but within the session's grace
    run_tick(runtime, utc(2027, 3, 22, 8, 51))
    assert len(posts(fake_slack)) == 1

    other = make_community(session, channel="C2", lead="U9")
    live_sessions(session, other, first=date(2027, 3, 22), title="Other")
    with caplog.at_level(logging.WARNING, logger="copbot.rituals.jobs"):
        run_tick(
            runtime, utc(2027, 3, 22, 9, 30)
        )  # C2's session started 90 minutes ago: past the hour of grace
    assert posts(fake_slack, "C2") == []
    assert "past the" in caplog.text and "grace" in caplog.text
    missed = [o for o in occurrences(session) if o.community_id == other.id and o.stage == Stage.MISSED]
    assert len(missed) == 1


def test_long_downtime_posts_no_burst(session: Session, runtime: Runtime, fake_slack: FakeSlack) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 1))
    run_tick(runtime, utc(2027, 3, 24, 12))  # three sessions missed while down
    assert posts(fake_slack) == []
    run_tick(runtime, utc(2027, 3, 29, 7))
    assert len(posts(fake_slack)) == 1


def test_full_cycle_from_kickoff_to_finale(session: Session, runtime: Runtime, fake_slack: FakeSlack) -> None:
    community = make_community(session)
    live_cycle(
        session,
        community,
        kickoff=utc(2027, 3, 2, 9),
        midpoint=utc(2027, 3, 16, 9),
        finale=utc(2027, 3, 30, 8),
    )
    live_sessions(session, community, first=date(2027, 3, 8))
    run_tick(runtime, utc(2027, 3, 2, 9))
    (kickoff,) = posts(fake_slack)
    assert "Kickoff: Spring cycle" in blocks_text(kickoff) and "Try game days" in blocks_text(kickoff)
    assert "ritual_sign_up" in blocks_text(kickoff)

    run_tick(runtime, utc(2027, 3, 8, 7, 30))  # session reminder, an hour before 09:00 CET
    session_post = posts(fake_slack)[-1]
    assert "Going" in blocks_text(session_post) and "I was there" not in blocks_text(session_post)
    run_tick(runtime, utc(2027, 3, 8, 8, 0))  # the session starts: "I was there" appears in place
    (started,) = fake_slack.calls_to("chat.update")
    assert "I was there" in blocks_text(started)
    run_tick(runtime, utc(2027, 3, 8, 9, 0))  # it ends: the after-action prompt in its thread
    prompt = posts(fake_slack, replies=True)[-1]
    assert prompt.params["thread_ts"] == started.params["ts"]
    assert SessionAction.OPEN_REVIEW_FROM_SESSION.value in blocks_text(prompt)
    first_session = next(o for o in occurrences(session) if o.kind == "session")
    assert f'"value": "{first_session.id}"' in blocks_text(prompt)
    run_tick(runtime, utc(2027, 3, 8, 9, 5))
    assert sum("What did we learn?" in blocks_text(p) for p in posts(fake_slack, replies=True)) == 1

    run_tick(runtime, utc(2027, 3, 16, 9))
    assert "Mid-point reflection" in blocks_text(posts(fake_slack)[-1])
    run_tick(runtime, utc(2027, 3, 27, 8))  # call for demos, three days before the finale
    assert "Finale demos" in blocks_text(posts(fake_slack)[-1])
    run_tick(runtime, utc(2027, 3, 30, 8))
    assert "starts now" in blocks_text(posts(fake_slack)[-1])
    kinds = {o.kind: o.stage for o in occurrences(session) if o.kind != "session"}
    assert kinds == {"kickoff": Stage.DONE, "midpoint": Stage.DONE, "finale": Stage.DONE}


def test_prompt_waits_for_its_parent_to_be_delivered(
    session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 8))
    # The job alone (no delivery): the post is owed but has no ts yet when the session is over.
    rituals_job(JobContext(deps=runtime.deps, at=utc(2027, 3, 8, 8, 55)))
    rituals_job(JobContext(deps=runtime.deps, at=utc(2027, 3, 8, 9, 1)))
    occurrence = occurrences(session)[0]
    assert occurrence.stage == Stage.STARTED  # no prompt yet: its thread has no parent
    with Session(engine) as check:
        keys = check.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("ritual:%"))).all()
        assert keys == [f"ritual:{occurrence.id}:post"]
    runtime.sender.drain()
    run_tick(runtime, utc(2027, 3, 8, 9, 2))
    (prompt,) = posts(fake_slack, replies=True)[1:]
    assert prompt.params["thread_ts"] == posts(fake_slack)[0].params.get("ts", prompt.params["thread_ts"])
    assert "What did we learn?" in blocks_text(prompt)


@pytest.mark.parametrize("replicas", [2, 3])
def test_two_replicas_ticking_at_once_post_each_occurrence_once(
    session: Session, runtime: Runtime, fake_slack: FakeSlack, engine: Engine, replicas: int
) -> None:
    """Stands in for two `serve` processes on one PostgreSQL database: each replica is a Runtime with
    its own engine (connection pool), ticking the same instant from its own thread."""
    if engine.dialect.name != "postgresql":
        pytest.skip("several replicas need PostgreSQL; SQLite serves one process")
    for n in range(5):
        community = make_community(session, channel=f"C{n + 1}", lead=f"U{n + 1}")
        live_sessions(session, community, first=date(2027, 3, 8))
    others = [Runtime(runtime.settings) for _ in range(replicas - 1)]
    barrier = threading.Barrier(replicas)
    errors: list[BaseException] = []

    def replica(rt: Runtime) -> None:
        try:
            barrier.wait()
            run_tick(rt, utc(2027, 3, 8, 7, 0))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=replica, args=(rt,)) for rt in [runtime, *others]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for rt in others:
        rt.engine.dispose()
    assert errors == []
    channels = [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage") if ours(c)]
    assert sorted(channels) == [f"C{n + 1}" for n in range(5)]


def test_paused_schedule_posts_nothing_and_resume_counts_from_then(
    session: Session, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    community = make_community(session)
    schedule = live_sessions(session, community, first=date(2027, 3, 8))
    service.set_status(
        session,
        community=community,
        user_id="U1",
        schedule_id=schedule.id,
        status=service.ScheduleStatus.PAUSED,
        now=T0,
    )
    session.commit()
    run_tick(runtime, utc(2027, 3, 8, 7, 30))
    assert posts(fake_slack) == []
    service.set_status(
        session,
        community=community,
        user_id="U1",
        schedule_id=schedule.id,
        status=service.ScheduleStatus.ACTIVE,
        now=utc(2027, 3, 10),
    )
    session.commit()
    run_tick(runtime, utc(2027, 3, 15, 7, 30))
    assert len(posts(fake_slack)) == 1


def test_outbox_key_is_the_occurrence(session: Session, runtime: Runtime) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 8))
    run_tick(runtime, utc(2027, 3, 8, 7, 30))
    occurrence = occurrences(session)[0]
    assert outbox.find(session, team_id="T1", key=f"ritual:{occurrence.id}:post") is not None
    assert occurrence.ends_at - occurrence.starts_at == timedelta(hours=1)


def test_editing_a_live_cycle_moves_its_coming_posts(session: Session, runtime: Runtime) -> None:
    community = make_community(session)
    schedule = live_cycle(
        session,
        community,
        kickoff=utc(2027, 3, 2, 9),
        midpoint=utc(2027, 3, 16, 9),
        finale=utc(2027, 3, 30, 8),
    )
    run_tick(runtime, utc(2027, 2, 28))
    form = service.CycleForm(
        title="Spring cycle",
        kickoff_date=date(2027, 3, 3),
        kickoff_time=time(10),
        midpoint_date=date(2027, 3, 16),
        midpoint_time=time(10),
        finale_date=date(2027, 3, 30),
        finale_time=time(10),
    )
    service.save_cycle(session, community=community, user_id="U1", form=form, now=T0, schedule_id=schedule.id)
    session.commit()
    run_tick(runtime, utc(2027, 2, 28, 0, 1))
    kickoffs = [o.starts_at for o in occurrences(session) if o.kind == "kickoff"]
    assert kickoffs == [utc(2027, 3, 3, 9)]


def test_an_uninstalled_workspace_rests_and_a_reinstall_resumes(
    session: Session, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    from copbot.oauth import service as workspaces

    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 22))  # Mondays 09:00 Berlin
    workspaces.mark_uninstalled(session, team_id="T1", at=utc(2027, 3, 20))
    session.commit()
    run_tick(runtime, utc(2027, 3, 22, 7, 0))
    assert posts(fake_slack) == [] and occurrences(session) == []
    workspaces.mark_installed(session, team_id="T1")
    session.commit()
    run_tick(runtime, utc(2027, 3, 29, 7, 0))
    assert len(posts(fake_slack)) == 1  # the next session; the one missed while uninstalled is not sent


def test_upcoming_lists_the_next_live_occurrences(session: Session, runtime: Runtime) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 22), title="Incident drills")
    run_tick(runtime, utc(2027, 3, 20, 12))
    coming = service.upcoming(session, community_id=community.id, after=utc(2027, 3, 20, 12), limit=2)
    assert [(o.starts_at, title) for o, title in coming] == [
        (utc(2027, 3, 22, 8), "Incident drills"),
        (utc(2027, 3, 29, 7), "Incident drills"),
    ]


def test_forget_export_and_retention(session: Session, runtime: Runtime, fake_slack: FakeSlack) -> None:
    from copbot import export
    from copbot.rituals.models import Attendance, Occurrence, Response

    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 22))
    run_tick(runtime, utc(2027, 3, 22, 8, 30))  # posted and started
    first = occurrences(session)[0]
    service.rsvp(
        session, occurrence=first, user_id="UGONE01", response=Response.GOING, at=utc(2027, 3, 22, 8, 30)
    )
    service.mark_attended(session, occurrence=first, user_id="UGONE01", at=utc(2027, 3, 22, 8, 30))
    facilitators.away(
        session,
        team_id="T1",
        user_id="UGONE01",
        first_day=date(2027, 4, 1),
        last_day=date(2027, 4, 2),
        today=date(2027, 3, 22),
    )
    session.commit()
    exported = export.collect(session, FEATURES, team_id="T1")
    assert [a["user_id"] for a in exported["attendance"]] == ["UGONE01"]
    assert exported["occurrences"][0]["channel_id"] == "C1"

    privacy.forget_user(session, Person("T1", "UGONE01"))
    session.commit()
    assert "UGONE01" not in json.dumps(export.collect(session, FEATURES, team_id="T1"), default=str)

    privacy.purge_before(session, utc(2027, 3, 25), team_id="T2")  # another workspace's rule: nothing here
    assert session.scalar(select(func.count()).select_from(Occurrence).where(Occurrence.id == first.id)) == 1
    privacy.purge_before(session, utc(2027, 3, 25), team_id="T1")
    session.commit()
    assert session.get(Occurrence, first.id) is None
    assert session.scalar(select(func.count()).select_from(Attendance)) == 0
    assert all(o.starts_at >= utc(2027, 3, 25) for o in occurrences(session))


def test_the_next_step_is_the_first_post_start_or_end_after_an_instant(
    session: Session, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    community = make_community(session)
    live_sessions(session, community, first=date(2027, 3, 22))
    with Session(session.get_bind()) as fresh:
        service.materialize(fresh, at=utc(2027, 3, 22, 6, 0))
        fresh.commit()
    first = occurrences(session)[0]
    assert service.next_step_at(session, after=utc(2027, 3, 22, 6, 0)) == first.post_at
    run_tick(runtime, first.post_at)  # posted: the next step is its start
    assert service.next_step_at(session, after=first.post_at) == first.starts_at
