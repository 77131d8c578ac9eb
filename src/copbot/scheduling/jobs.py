"""What a scheduled job is, and what it is given when it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_bolt import App

from copbot.deps import Deps


@dataclass(frozen=True)
class JobContext:
    """A job's run: the instant it acts for (now, or `tick --at`), and what it may use."""

    deps: Deps
    at: datetime
    app: App | None = None


@dataclass(frozen=True)
class Job:
    """A function run every `every`; a run late by more than `grace` is skipped, not run in a burst.

    A job must be idempotent for an instant: whatever it owes is claimed under a unique key in the
    same transaction as its outbox rows, so two runs (or two schedulers) never post twice.
    `next_due(ctx)`, when given, names the first instant after `ctx.at` at which the job has work, so
    the scheduler wakes for it then instead of at the next interval.
    """

    name: str
    run: Callable[[JobContext], None]
    every: timedelta
    grace: timedelta = timedelta(minutes=5)
    next_due: Callable[[JobContext], datetime | None] | None = None
