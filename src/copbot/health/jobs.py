"""Health's scheduled work: the quarterly review, when a community's quarter ends (its time zone)."""

from __future__ import annotations

from datetime import timedelta

from copbot.communities.jobs import each_installed_community
from copbot.health import flows
from copbot.scheduling.jobs import Job, JobContext


def jobs() -> list[Job]:
    """The quarterly review, checked every ten minutes."""
    return [
        Job(
            "health-quarterly-review", run_quarterly, every=timedelta(minutes=10), grace=timedelta(minutes=30)
        )
    ]


def run_quarterly(ctx: JobContext) -> None:
    """Owe the review (DMs and charts) of every community whose quarter has just ended."""
    each_installed_community(
        ctx,
        lambda session, community_id, at: flows.quarterly_review(session, community_id=community_id, at=at),
        what="quarterly review",
    )
