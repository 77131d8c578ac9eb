"""Recovery: events held by a dead process are replayed after one lease; the scheduler wakes for the
next due instant and a new leader catches up at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.inbox import service as inbox
from copbot.leases import LeaseKeeper
from copbot.runtime import Runtime
from copbot.scheduling.jobs import Job, JobContext
from copbot.scheduling.runner import Worker

T = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _record(session: Session, event_id: str, by: str, until: datetime) -> None:
    inbox.record(
        session,
        team_id="T1",
        event_id=event_id,
        event_type="app_mention",
        payload={"event_id": event_id},
        claimed_by=by,
        claimed_until=until,
    )
    session.commit()


def _claim(session: Session, at: datetime) -> list[str]:
    found = [
        e.event_id
        for e in inbox.claim_stranded(session, at=at, identity="B", until=at + timedelta(seconds=10))
    ]
    session.commit()
    return found


def test_an_event_is_replayed_only_once_its_process_stops_renewing(session: Session, engine: Engine) -> None:
    _record(session, "Ev1", "A", T + timedelta(seconds=10))
    assert inbox.next_stranding(session, after=T) == T + timedelta(seconds=10)
    assert _claim(session, T + timedelta(seconds=5)) == []
    keeper = LeaseKeeper(
        lambda: Session(engine), "A", 10, [inbox.renew_claims], clock=lambda: T + timedelta(seconds=8)
    )
    assert keeper.renew() == 1  # A lives and renews: the event is A's until T+18
    assert _claim(session, T + timedelta(seconds=15)) == []
    assert _claim(session, T + timedelta(seconds=19)) == ["Ev1"]  # A died at T+8: taken over after a lease
    assert _claim(session, T + timedelta(seconds=20)) == []  # now B's


def test_a_failed_handler_hands_the_event_back_for_a_later_try(session: Session) -> None:
    _record(session, "Ev2", "A", T + timedelta(seconds=10))
    inbox.release(session, team_id="T1", event_id="Ev2", retry_at=T + timedelta(seconds=30))
    session.commit()
    assert _claim(session, T + timedelta(seconds=12)) == []
    assert _claim(session, T + timedelta(seconds=31)) == ["Ev2"]
    inbox.mark_processed(session, team_id="T1", event_id="Ev2")
    session.commit()
    assert inbox.next_stranding(session, after=T) is None


def _worker(runtime: Runtime, job: Job) -> Worker:
    return Worker(runtime.deps, runtime.engine, None, runtime.sender, jobs=[job])


def test_the_scheduler_wakes_for_the_next_due_instant_not_the_interval(runtime: Runtime) -> None:
    runs: list[datetime] = []
    done = threading.Event()
    due = now() + timedelta(seconds=1.5)

    def run(ctx: JobContext) -> None:
        runs.append(now())
        if len(runs) == 2:
            done.set()

    job = Job("probe", run, every=timedelta(hours=1), next_due=lambda ctx: due if ctx.at < due else None)
    worker = _worker(runtime, job)
    started = time.monotonic()
    worker.start()
    try:
        assert done.wait(10)
    finally:
        worker.stop()
    assert runs[0] - due < timedelta(seconds=-1)  # a new leader runs every job at once (catch-up)
    late = (runs[1] - due).total_seconds()
    print(f"\nscheduler: woke {late:.3f} s after the due instant; the job's interval is 1 h")
    assert 0 <= late < 0.5
    assert time.monotonic() - started < 5
