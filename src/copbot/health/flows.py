"""Health's use cases: `(session, input) -> outcome`, calling the service for the figures, rendering with
the blocks and the chart, and owing the outbox messages, in the caller's transaction.

The quarterly review: each community's quarter is claimed once (unique row) in the same transaction as the
leads' DMs and their chart uploads, all owed to the outbox: each chart follows its DM into the same
conversation once the DM is delivered, with the outbox's retries and back-off.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from copbot.blockkit import text_message
from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.health import blocks, chart, home, service
from copbot.health.periods import Period
from copbot.outbox import service as outbox

log = logging.getLogger(__name__)


def review_key(community: Community, quarter: str, user_id: str) -> str:
    """The outbox key of one lead's review DM."""
    return f"health-quarter:{community.id}:{quarter}:{user_id}"


def quarterly_review(session: Session, *, community_id: int, at: datetime) -> int:
    """Claim the community's ended quarter and owe a DM and a chart per lead; 0 when not due or done."""
    community = session.get(Community, community_id)
    quarter = service.ended_quarter(community, at) if community else None
    if community is None or quarter is None:
        return 0
    if service.quarter_reviewed(session, community=community, quarter=quarter):
        return 0
    this = service.period_metrics(
        session, community=community, period=quarter, stop=quarter.end, fairness=True
    )
    previous = quarter.previous()
    before = service.period_metrics(session, community=community, period=previous, stop=previous.end)
    png = quarter_chart(session, community=community, quarter=quarter)
    message = blocks.quarterly_review(community, this, before)
    claimed = service.claim_quarter(
        session, community=community, quarter=quarter, summary=message["text"], png=png
    )
    if claimed is None:
        return 0  # another run claimed it a moment ago
    leads = communities.leads(session, community=community)
    for lead in leads:
        key = review_key(community, quarter.quarter_key, lead)
        outbox.direct_message(
            session,
            team_id=community.team_id,
            user_id=lead,
            key=key,
            message=message,
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


def quarter_chart(session: Session, *, community: Community, quarter: Period) -> bytes:
    """The PNG of the quarter's weekly trends."""
    weeks = service.quarter_weeks(session, community=community, quarter=quarter)
    return chart.weekly_chart(
        [(w.start, w.contributions, w.contributors, w.attendance) for w in weeks],
        title=f"{community.name} · {quarter.label}: weekly trends",
        zone=community.timezone,
        goals=community.learning_goals,
    )


def publish_home(
    session: Session, *, team_id: str, user_id: str, key: str, at: datetime, refresh_views: bool = True
) -> bool:
    """Owe the user's App Home as of `at` (through the outbox, under `key`)."""
    gathered = home.home(session, team_id=team_id, user_id=user_id, at=at, refresh_views=refresh_views)
    return outbox.publish_home(
        session, team_id=team_id, user_id=user_id, key=key, view=blocks.home_view(gathered)
    )


def republish_leads_homes(session: Session, *, community_id: int, at: datetime) -> int:
    """Owe the App Home of the community's leads again, after its dashboard's views were refreshed.

    Their stored views are read without asking for another refresh: a community that keeps changing
    would otherwise republish every minute for as long as it is active, whether anyone looks or not.
    """
    community = session.get(Community, community_id)
    if community is None:
        return 0
    leads = communities.leads(session, community=community)
    for lead in leads:
        key = f"health-home:{lead}:refreshed:{community.id}:{at.isoformat()}"
        publish_home(session, team_id=community.team_id, user_id=lead, key=key, at=at, refresh_views=False)
    return len(leads)


def refusal_dm(session: Session, *, team_id: str, user_id: str, key: str, text: str) -> None:
    """Owe a DM that says why an App Home button did nothing (there is no message to answer in)."""
    outbox.direct_message(session, team_id=team_id, user_id=user_id, key=key, message=text_message(text))
