"""Health's scheduled work: the quarterly review, when a community's quarter ends (its time zone), and the
background refresh of stored views found behind the records."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from copbot.communities.jobs import each_installed_community
from copbot.db import session_scope
from copbot.health import flows, snapshots
from copbot.scheduling.jobs import Job, JobContext

log = logging.getLogger(__name__)


def jobs() -> list[Job]:
    """The quarterly review, checked every ten minutes; the views' refresh (and new periods' views), every
    minute and woken when one falls due."""
    return [
        Job(
            "health-quarterly-review", run_quarterly, every=timedelta(minutes=10), grace=timedelta(minutes=30)
        ),
        Job(
            "health-refresh-views",
            run_refresh,
            every=snapshots.DEBOUNCE,
            grace=timedelta(minutes=5),
            next_due=refresh_due,
        ),
    ]


def run_quarterly(ctx: JobContext) -> None:
    """Owe the review (DMs and charts) of every community whose quarter has just ended."""
    each_installed_community(
        ctx,
        lambda session, community_id, at: flows.quarterly_review(session, community_id=community_id, at=at),
        what="quarterly review",
    )


ROLLOVER_BUDGET = 20.0  # seconds a run gives to new periods' views; the rest waits for the next run


def run_refresh(ctx: JobContext) -> None:
    """Refresh the stored views due now; then compute the new period's views of the dashboards in use."""
    refresh_views(ctx)
    roll_over_views(ctx)


def roll_over_views(ctx: JobContext, *, budget: float = ROLLOVER_BUDGET) -> int:
    """Compute, ahead of its first read, the current period of every view read in its previous one, each
    in its own transaction, for at most `budget` seconds. Returns how many it computed."""
    with session_scope(ctx.deps.sessions) as session:
        owed = snapshots.rollovers(session, at=ctx.at)
    done, deadline = 0, time.monotonic() + budget
    for community_id, view in owed:
        if time.monotonic() >= deadline:
            log.info("%d stored health views wait for the next run to roll over", len(owed) - done)
            break
        try:
            with session_scope(ctx.deps.sessions) as session:
                done += snapshots.roll_over(session, community_id=community_id, view=view, at=ctx.at)
        except Exception:  # its first reader computes it instead
            log.exception("rolling over stored health view %s of community %s failed", view, community_id)
    return done


def refresh_views(ctx: JobContext) -> int:
    """Recompute the stored views due for a refresh, each claimed first (one replica recomputes it) and
    stored in its own transaction; then owe the leads' App Home of the communities whose dashboard changed.
    Returns how many views it recomputed."""
    with session_scope(ctx.deps.sessions) as session:
        due = snapshots.due_refreshes(session, at=ctx.at)
    done, homes = 0, set()
    for view_id in due:
        try:
            with session_scope(ctx.deps.sessions) as session:
                claimed = snapshots.claim_refresh(session, view_id=view_id, at=ctx.at)
            if claimed is None:
                continue  # another replica has it
            with session_scope(ctx.deps.sessions) as session:
                refreshed = snapshots.refresh(session, view_id=view_id, claimed_until=claimed, at=ctx.at)
        except Exception:  # the claim lapses after its lease and the view is tried again
            log.exception("refresh of stored health view %s failed at %s", view_id, ctx.at.isoformat())
            continue
        if refreshed is not None:
            done += 1
            if refreshed.on_home:
                homes.add(refreshed.community_id)
    queued = 0
    for community_id in sorted(homes):
        with session_scope(ctx.deps.sessions) as session:
            queued += flows.republish_leads_homes(session, community_id=community_id, at=ctx.at)
    if queued:
        ctx.deps.outbox.notify()
    return done


def refresh_due(ctx: JobContext) -> datetime | None:
    """When the next stored view falls due for its refresh (the scheduler wakes the job then)."""
    with session_scope(ctx.deps.sessions) as session:
        return snapshots.next_refresh(session)
