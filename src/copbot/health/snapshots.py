"""Cached health views: a community's metrics and trend, stored with its change counter.

A view is computed once and served while the community's counter (`health_versions`, bumped by
database triggers on every table the metrics read) has not moved, so App Home and `/cop stats` cost a
few index reads instead of a pass over the period's records. Correct across replicas: the counter and
the views live in the database. Plain Python: no Slack code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import Select, bindparam, delete, literal, select, true
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities.models import Community
from copbot.db import affected, dialect_insert
from copbot.feature import Counts, Person
from copbot.health import service
from copbot.health.models import HealthSnapshot, HealthVersion
from copbot.health.periods import PeriodKind, last_weeks, period_at

T = TypeVar("T")


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def metrics(
    session: Session, *, community: Community, kind: PeriodKind | str, at: datetime, fairness: bool = False
) -> service.Metrics:
    """`service.metrics`, served from the stored view while the community's records are unchanged."""
    period = period_at(kind, at, community.timezone)
    view = f"metrics:{period.kind.value}:{'fair' if fairness else 'all'}"
    return _cached(
        session,
        community,
        view,
        period.start,
        service.Metrics,
        lambda: service.metrics(session, community=community, kind=kind, at=at, fairness=fairness),
    )


def trends(session: Session, *, community: Community, at: datetime, weeks: int = 12) -> list[service.Week]:
    """`service.trends`, served from the stored view while the community's records are unchanged."""
    this_week = last_weeks(at, community.timezone, 1)[-1].start
    return _cached(
        session,
        community,
        f"trend:{weeks}",
        this_week,
        list[service.Week],
        lambda: service.trends(session, community=community, at=at, weeks=weeks),
    )


def version(session: Session, community_id: int) -> int:
    """The community's change counter (0 before its first change)."""
    counter = select(HealthVersion.version).where(HealthVersion.community_id == community_id)
    return session.scalar(counter) or 0


@cache
def _stored_query() -> Select[int | None, int, Any]:
    """The community's counter and the stored view, in one read (App Home reads two views per lead)."""
    counter = (
        select(HealthVersion.version)
        .where(HealthVersion.community_id == bindparam("community_id"))
        .scalar_subquery()
    )
    stored = (
        select(HealthSnapshot.version, HealthSnapshot.data)
        .where(
            HealthSnapshot.community_id == bindparam("community_id"),
            HealthSnapshot.view == bindparam("view"),
            HealthSnapshot.period_start == bindparam("period_start"),
        )
        .subquery()
    )
    # An outer join to the one-row select of the counter: the counter comes back whether a view is stored.
    return select(counter, stored.c.version, stored.c.data).select_from(
        select(literal(1).label("one")).subquery().outerjoin(stored, true())
    )


def _cached(
    session: Session,
    community: Community,
    view: str,
    period_start: datetime,
    kind: Any,
    compute: Callable[[], T],
) -> T:
    # The counter is read before the records: a change made meanwhile leaves the stored view stale-stamped,
    # so it is recomputed next time, never served as fresh.
    values = {"community_id": community.id, "view": view, "period_start": period_start}
    counter, stored_version, stored_data = session.execute(_stored_query(), values).one()
    current = counter or 0
    adapter = _adapter(kind)
    if stored_version is not None and stored_version == current:
        cached: T = adapter.validate_python(stored_data)
        return cached
    value = compute()
    data = adapter.dump_python(value, mode="json")
    insert = dialect_insert(session)
    session.execute(
        insert(HealthSnapshot)
        .values(
            team_id=community.team_id,
            community_id=community.id,
            view=view,
            period_start=period_start,
            version=current,
            data=data,
            computed_at=now(),
        )
        .on_conflict_do_update(
            index_elements=["community_id", "view", "period_start"],
            set_={"version": current, "data": data, "computed_at": now()},
        )
    )
    return value


def forget(session: Session, person: Person) -> Counts:
    """Drop a workspace's stored views (they may list a forgotten person); they are recomputed on use."""
    dropped = session.execute(delete(HealthSnapshot).where(HealthSnapshot.team_id == person.team_id))
    return {"health_snapshots": affected(dropped)}


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Drop a workspace's views computed before the retention cutoff."""
    statement = delete(HealthSnapshot).where(HealthSnapshot.computed_at < cutoff)
    return affected(session.execute(statement.where(HealthSnapshot.team_id == team_id)))
