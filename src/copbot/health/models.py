"""Tables of the health feature: each quarterly review sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copbot.clock import now
from copbot.db import Base
from copbot.health import indexes  # noqa: F401  (health's indexes on other features' tables)


class QuarterlyReview(Base):
    """A community's review of one quarter, claimed before its DMs are queued: once per quarter."""

    __tablename__ = "health_quarterly_reviews"
    __table_args__ = (
        UniqueConstraint("team_id", "community_id", "quarter"),
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    quarter: Mapped[str] = mapped_column(String(8))  # "2026Q3", in the community's time zone
    summary: Mapped[str] = mapped_column(Text, default="")
    chart_png: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=now)


class HealthVersion(Base):
    """A community's change counter: database triggers bump it whenever a record metrics read changes.

    Every writer (any feature, any replica, `copbot forget`, retention) moves it, so a cached view
    stamped with the counter is fresh exactly while the counter has not moved.
    """

    __tablename__ = "health_versions"

    # No foreign key: a community's deletion cascades to its members, whose triggers still bump this row.
    community_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)


class HealthSnapshot(Base):
    """A computed view of a community's health (metrics of a period, or the weekly trend), cached.

    Served as it is when the records have changed since (`version` behind the counter), while a
    background refresh recomputes it: `refresh_after` is when that refresh is due (set by the first read
    that finds it behind, at most once a debounce interval after `computed_at`), `refreshing_until` the
    lease of the process recomputing it (claimed by compare-and-set, so one replica recomputes it).
    Holds user ids (fairness lists who has not been recognised): forget-me and retention delete them.
    """

    __tablename__ = "health_snapshots"
    __table_args__ = (
        UniqueConstraint("community_id", "view", "period_start"),
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    view: Mapped[str] = mapped_column(String(40))  # "metrics:quarter:fair", "trend:12"
    period_start: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=now)
    refresh_after: Mapped[datetime | None] = mapped_column(index=True)
    refreshing_until: Mapped[datetime | None] = mapped_column()
