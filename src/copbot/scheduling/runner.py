"""Run the jobs: on a schedule in `serve`/`worker` (leader only), or once for an instant with `tick`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt import App
from sqlalchemy import Engine

from copbot.clock import now
from copbot.deps import Deps
from copbot.inbox import jobs as inbox_jobs
from copbot.outbox.sender import OutboxSender, Report, SenderLoop
from copbot.scheduling.jobs import Job, JobContext
from copbot.scheduling.leader import LeaderLock

log = logging.getLogger(__name__)


def collect_jobs(deps: Deps) -> list[Job]:
    """The core's jobs and every feature's."""
    found = list(inbox_jobs.jobs())
    for feature in deps.features:
        found.extend(feature.jobs())
    return found


def run_job(job: Job, ctx: JobContext) -> bool:
    """Run one job, logging (not raising) its failure so the others still run."""
    try:
        job.run(ctx)
    except Exception:
        log.exception("job %s failed at %s", job.name, ctx.at.isoformat())
        return False
    return True


@dataclass
class TickReport:
    """What `tick` did."""

    jobs_run: int
    jobs_failed: int
    delivery: Report


def tick(at: datetime, *, deps: Deps, app: App | None, sender: OutboxSender) -> TickReport:
    """Run every job as of `at`, then deliver what the outbox owes; idempotent for an instant."""
    ctx = JobContext(deps=deps, at=at, app=app)
    results = [run_job(job, ctx) for job in collect_jobs(deps)]
    delivery = sender.drain()
    return TickReport(jobs_run=len(results), jobs_failed=results.count(False), delivery=delivery)


class Worker:
    """The scheduler (acting only while this replica leads) and the outbox sender (on every replica)."""

    def __init__(self, deps: Deps, engine: Engine, app: App | None, sender: OutboxSender):
        self._deps, self._app = deps, app
        self._leader = LeaderLock(engine)
        self._sender_loop = SenderLoop(sender, deps.outbox)
        self._scheduler = BackgroundScheduler(timezone=UTC)

    def start(self) -> None:
        """Start the sender and the scheduler threads."""
        self._sender_loop.start()
        self._scheduler.add_job(
            self._leader.refresh,
            IntervalTrigger(seconds=self._deps.settings.leader_check_seconds, timezone=UTC),
            id="leader",
            next_run_time=datetime.now(UTC),
            misfire_grace_time=5,
            coalesce=True,
            max_instances=1,
        )
        for job in collect_jobs(self._deps):
            self._scheduler.add_job(
                self._run_if_leader,
                IntervalTrigger(seconds=job.every.total_seconds(), timezone=UTC),
                args=[job],
                id=job.name,
                misfire_grace_time=int(job.grace.total_seconds()),
                coalesce=True,
                max_instances=1,
            )
        self._scheduler.start()

    def stop(self) -> None:
        """Stop scheduling, finish the current delivery pass, give up leadership."""
        self._scheduler.shutdown(wait=True)
        self._sender_loop.stop()
        self._leader.release()

    def _run_if_leader(self, job: Job) -> None:
        if not self._leader.refresh():
            return
        run_job(job, JobContext(deps=self._deps, at=now(), app=self._app))
        self._deps.outbox.notify()
