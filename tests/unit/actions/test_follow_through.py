"""Follow-through: review actions closed by their date, and the median days to close, per window."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from copbot.actions.models import ActionItem
from copbot.communities import service as communities
from copbot.health.follow_through import follow_through
from copbot.reviews.models import Review


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_on_time_share_and_median_days(session: Session) -> None:
    form = communities.CommunityForm.parse(
        {"name": "Guild", "purpose": "Learn together.", "timezone": "Pacific/Auckland"}
    )
    community, _ = communities.save_community(session, team_id="T1", channel_id="C1", user_id="U1", form=form)
    review = Review(
        team_id="T1",
        community_id=community.id,
        author_id="U1",
        template="after_action",
        title="T",
        context="c",
        happened="h",
    )
    session.add(review)
    session.flush()

    def item(due: date | None, closed: datetime | None, created: datetime | None = None) -> None:
        status = "done" if closed else "open"
        session.add(
            ActionItem(
                team_id="T1",
                community_id=community.id,
                review_id=review.id,
                text="x",
                owner_id="U2",
                due_on=due,
                status=status,
                closed_at=closed,
                created_at=created or at(1),
            )
        )

    item(date(2026, 11, 10), at(9))  # on time
    item(date(2026, 11, 10), at(9, 20))  # 9 Nov 20:00 UTC is 10 Nov in Auckland: on time
    item(date(2026, 11, 12), at(15))  # late
    item(date(2026, 11, 14), None)  # open past its date: not on time
    item(date(2026, 11, 28), None)  # not yet due at the window's stop: not counted
    item(None, at(20), created=at(10))  # undated: counts for days to close only
    session.flush()
    found = follow_through(session, community=community, start=at(1, 0), stop=at(25))
    assert (found.due, found.on_time, found.closed) == (4, 0.5, 4)
    assert found.median_days is not None and round(found.median_days, 2) == 9.17  # of 8, 8.33, 10 and 14
