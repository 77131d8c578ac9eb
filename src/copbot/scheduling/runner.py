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
    """The scheduler (acting only while this replica leads) and the outbox sender (on every replica).

    Jobs run on their interval and, when they can tell (`Job.next_due`), also at the instant their next
    work falls due: the leader re-reads those instants at every leader check. A replica that becomes
    leader (at start, or when the leader died) runs every job at once.
    """

    def __init__(
        self,
        deps: Deps,
        engine: Engine,
        app: App | None,
        sender: OutboxSender,
        *,
        jobs: list[Job] | None = None,
    ):
        self._deps, self._app = deps, app
        self._leader = LeaderLock(engine)
        self._sender_loop = SenderLoop(sender, deps.outbox, idle_seconds=deps.settings.outbox_poll_seconds)
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._jobs = collect_jobs(deps) if jobs is None else jobs
        self._last_run: dict[str, datetime] = {}

    def start(self) -> None:
        """Start the sender and the scheduler threads."""
        self._sender_loop.start()
        self._scheduler.add_job(
            self._lead,
            IntervalTrigger(seconds=self._deps.settings.leader_check_seconds, timezone=UTC),
            id="leader",
            next_run_time=datetime.now(UTC),
            misfire_grace_time=5,
            coalesce=True,
            max_instances=1,
        )
        for job in self._jobs:
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

    def _lead(self) -> None:
        was_leading = self._leader.held
        if not self._leader.refresh():
            return
        if not was_leading:  # a new leader catches up at once rather than at each job's next interval
            for job in self._jobs:
                self._wake(job, now())
            return
        for job in self._jobs:
            self._plan(job)

    def _run_if_leader(self, job: Job) -> None:
        if not self._leader.refresh():
            return
        at = now()
        run_job(job, JobContext(deps=self._deps, at=at, app=self._app))
        self._last_run[job.name] = at
        self._deps.outbox.notify()
        self._plan(job)

    def _plan(self, job: Job) -> None:
        """Wake `job` when its next work falls due, if that is before its next interval."""
        if job.next_due is None:
            return
        after = self._last_run.get(job.name, now())
        try:
            due = job.next_due(JobContext(deps=self._deps, at=after, app=self._app))
        except Exception as error:
            log.warning("job %s: finding its next due instant failed (%s)", job.name, type(error).__name__)
            return
        if due is not None:
            self._wake(job, due)

    def _wake(self, job: Job, when: datetime) -> None:
        scheduled = self._scheduler.get_job(job.name)
        when = max(when, now())
        if scheduled is not None and (scheduled.next_run_time is None or when < scheduled.next_run_time):
            scheduled.modify(next_run_time=when)
