"""The quarterly review: when a quarter ends (community time zone), its leads get the quarter in review.

Each community's quarter is claimed once (unique row) in the same transaction as the leads' DMs and their
chart uploads, all owed to the outbox: each chart follows its DM into the same conversation once the DM is
delivered, with the outbox's retries and back-off (a crash between an upload and its commit can repeat it).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.jobs import each_installed_community
from copbot.communities.models import Community
from copbot.db import dialect_insert
from copbot.health import blocks, chart, service
from copbot.health.models import QuarterlyReview
from copbot.health.periods import Period, PeriodKind, period_at
from copbot.outbox import service as outbox
from copbot.scheduling.jobs import Job, JobContext

log = logging.getLogger(__name__)

REVIEW_WINDOW = timedelta(days=7)  # a quarter found ended later than this (bot down, new install) is skipped


def jobs() -> list[Job]:
    """The quarterly review, checked every ten minutes."""
    return [
        Job(
            "health-quarterly-review", run_quarterly, every=timedelta(minutes=10), grace=timedelta(minutes=30)
        )
    ]


def run_quarterly(ctx: JobContext) -> None:
    """Queue the review (DMs and charts) of every community whose quarter has just ended."""
    each_installed_community(
        ctx,
        lambda session, community_id, at: queue_review(session, community_id=community_id, at=at),
        what="quarterly review",
    )


def ended_quarter(community: Community, at: datetime) -> Period | None:
    """The quarter whose review is due at `at`: the one that ended in the last REVIEW_WINDOW."""
    ended = period_at(PeriodKind.QUARTER, at, community.timezone).previous()
    if not ended.end <= at < ended.end + REVIEW_WINDOW or community.created_at >= ended.end:
        return None
    return ended


def review_key(community: Community, quarter: str, user_id: str) -> str:
    """The outbox key of one lead's review DM."""
    return f"health-quarter:{community.id}:{quarter}:{user_id}"


def queue_review(session: Session, *, community_id: int, at: datetime) -> int:
    """Claim the community's ended quarter and queue a DM per lead; 0 when not due or already done."""
    community = session.get(Community, community_id)
    quarter = ended_quarter(community, at) if community else None
    if community is None or quarter is None:
        return 0
    claimed = select(QuarterlyReview.id).where(
        QuarterlyReview.team_id == community.team_id,
        QuarterlyReview.community_id == community.id,
        QuarterlyReview.quarter == quarter.quarter_key,
    )
    if session.scalar(claimed) is not None:
        return 0
    this = service.period_metrics(
        session, community=community, period=quarter, stop=quarter.end, fairness=True
    )
    previous = quarter.previous()
    before = service.period_metrics(session, community=community, period=previous, stop=previous.end)
    weeks = quarter_weeks(session, community=community, quarter=quarter)
    png = chart.weekly_chart(
        [(w.start, w.contributions, w.contributors, w.attendance) for w in weeks],
        title=f"{community.name} · {quarter.label}: weekly trends",
        zone=community.timezone,
        goals=community.learning_goals,
    )
    message = blocks.quarterly_review(community, this, before)
    review_id = _claim(
        session, community=community, quarter=quarter.quarter_key, summary=message["text"], png=png
    )
    if review_id is None:
        return 0  # another run claimed it a moment ago
    leads = communities.leads(session, community=community)
    for lead in leads:
        key = review_key(community, quarter.quarter_key, lead)
        outbox.direct_message(
            session,
            team_id=community.team_id,
            user_id=lead,
            key=key,
            text=message["text"],
            blocks=message["blocks"],
        )
        outbox.upload(
            session,
            team_id=community.team_id,
            key=f"{key}:chart",
            of_key=key,
            content=png,
            filename=f"{quarter.quarter_key}-weekly-trends.png",
            title=f"{community.name}: weekly trends, {quarter.quarter_key}",
            alt_text=chart.LEGEND,
            comment=f"Weekly trends of {quarter.quarter_key}: {chart.LEGEND}.",
        )
    log.info(
        "quarterly review %s of community %s queued for %d leads",
        quarter.quarter_key,
        community.id,
        len(leads),
    )
    return len(leads)


def quarter_weeks(session: Session, *, community: Community, quarter: Period) -> list[service.Week]:
    """The weeks that overlap the quarter, with their trend figures."""
    count = (quarter.end - quarter.start).days // 7 + 2
    weeks = service.trends(
        session, community=community, at=quarter.end - timedelta(microseconds=1), weeks=count
    )
    return [w for w in weeks if w.start + timedelta(days=7) > quarter.start]


def _claim(session: Session, *, community: Community, quarter: str, summary: str, png: bytes) -> int | None:
    insert = dialect_insert(session)
    statement = (
        insert(QuarterlyReview)
        .values(
            team_id=community.team_id,
            community_id=community.id,
            quarter=quarter,
            summary=summary,
            chart_png=png,
            created_at=now(),
        )
        .on_conflict_do_nothing(index_elements=["team_id", "community_id", "quarter"])
        .returning(QuarterlyReview.id)
    )
    return session.execute(statement).scalar()
