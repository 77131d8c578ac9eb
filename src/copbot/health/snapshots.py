"""Cached health views: a community's metrics and trend, stored with its change counter, served at once.

A view is computed once and stored with the community's counter (`health_versions`, bumped by database
triggers on every table the metrics read). While the counter has not moved the stored view is exact.
When it has moved the stored view is still served at once (marked behind, with the instant it was
computed), and the read asks for a background refresh: the `health-refresh-views` job recomputes it at
most once per `DEBOUNCE`, claimed by compare-and-set on the row so one replica does it. Only a view never
computed (a new community, a new period) is computed inline. At 1M records a recompute takes seconds
(BENCHMARKS.md); served this way App Home and `/cop stats` cost a few index reads whatever changed.

Correct across replicas: the counter, the views and the claims live in the database. Plain Python: no
Slack code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import Select, bindparam, case, delete, func, literal, or_, select, true, type_coerce, update
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities.models import Community
from copbot.db import UTCDateTime, affected, dialect_insert
from copbot.feature import Counts, Person
from copbot.health import service
from copbot.health.models import HealthSnapshot, HealthVersion
from copbot.health.periods import PeriodKind, last_weeks, period_at

T = TypeVar("T")

DEBOUNCE = timedelta(seconds=60)  # a view is recomputed at most once a minute, however busy the community
LEASE = timedelta(minutes=5)  # a refresh not finished by then (its process died) may be claimed again
BATCH = 50  # views one run of the refresh job takes on


@dataclass(frozen=True)
class Served(Generic[T]):
    """A view as served: its value, when it was computed, and whether the records changed since."""

    value: T
    computed_at: datetime
    behind: bool  # the records changed since it was computed: a background refresh is owed

    @property
    def as_of(self) -> datetime | None:
        """When the numbers were counted, for a view behind the records; None for an exact one."""
        return self.computed_at if self.behind else None


@dataclass(frozen=True)
class _View:
    name: str  # "metrics:quarter:fair", "trend:12"
    kind: Any  # the stored type
    start: Callable[[Community, datetime], datetime]  # the period the view at `at` covers
    compute: Callable[[Session, Community, datetime], Any]


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


@cache
def _metrics_view(kind: PeriodKind, fairness: bool) -> _View:
    return _View(
        f"metrics:{kind.value}:{'fair' if fairness else 'all'}",
        service.Metrics,
        lambda community, at: period_at(kind, at, community.timezone).start,
        lambda session, community, at: service.metrics(
            session, community=community, kind=kind, at=at, fairness=fairness
        ),
    )


@cache
def _trend_view(weeks: int) -> _View:
    return _View(
        f"trend:{weeks}",
        list[service.Week],
        lambda community, at: last_weeks(at, community.timezone, 1)[-1].start,
        lambda session, community, at: service.trends(session, community=community, at=at, weeks=weeks),
    )


def _view_named(name: str) -> _View | None:
    """The view a stored row's name stands for (None for a name this version no longer computes)."""
    parts = name.split(":")
    if parts[0] == "metrics" and len(parts) == 3 and parts[1] in {k.value for k in PeriodKind}:
        return _metrics_view(PeriodKind(parts[1]), parts[2] == "fair")
    if parts[0] == "trend" and len(parts) == 2 and parts[1].isdigit():
        return _trend_view(int(parts[1]))
    return None


HOME_METRICS = PeriodKind.MONTH  # what a lead's App Home dashboard shows: this month, with fairness
HOME_VIEWS = frozenset({_metrics_view(HOME_METRICS, True).name, _trend_view(12).name})


def metrics(
    session: Session,
    *,
    community: Community,
    kind: PeriodKind | str,
    at: datetime,
    fairness: bool = False,
    refresh: bool = True,
) -> Served[service.Metrics]:
    """`service.metrics` from the stored view; one behind the records is served and, with `refresh`,
    a background refresh is asked for."""
    return _serve(session, community, _metrics_view(PeriodKind(kind), fairness), at, refresh=refresh)


def trends(
    session: Session, *, community: Community, at: datetime, weeks: int = 12, refresh: bool = True
) -> Served[list[service.Week]]:
    """`service.trends` from the stored view, as `metrics`."""
    return _serve(session, community, _trend_view(weeks), at, refresh=refresh)


def version(session: Session, community_id: int) -> int:
    """The community's change counter (0 before its first change)."""
    counter = select(HealthVersion.version).where(HealthVersion.community_id == community_id)
    return session.scalar(counter) or 0


@cache
def _stored_query() -> Select[Any]:
    """The community's counter and the stored view, in one read (App Home reads two views per lead)."""
    counter = (
        select(HealthVersion.version)
        .where(HealthVersion.community_id == bindparam("community_id"))
        .scalar_subquery()
    )
    stored = (
        select(
            HealthSnapshot.id,
            HealthSnapshot.version,
            HealthSnapshot.data,
            HealthSnapshot.computed_at,
            HealthSnapshot.refresh_after,
        )
        .where(
            HealthSnapshot.community_id == bindparam("community_id"),
            HealthSnapshot.view == bindparam("view"),
            HealthSnapshot.period_start == bindparam("period_start"),
        )
        .subquery()
    )
    # An outer join to the one-row select of the counter: the counter comes back whether a view is stored.
    return select(
        counter,
        stored.c.id,
        stored.c.version,
        stored.c.data,
        stored.c.computed_at,
        stored.c.refresh_after,
    ).select_from(select(literal(1).label("one")).subquery().outerjoin(stored, true()))


@cache
def _ask_refresh() -> Any:
    """Mark a stored view due for its refresh, once (the first read that finds it behind)."""
    return (
        update(HealthSnapshot)
        .where(HealthSnapshot.id == bindparam("view_id"), HealthSnapshot.refresh_after.is_(None))
        .values(refresh_after=bindparam("due"))
    )


def _serve(
    session: Session, community: Community, view: _View, at: datetime, *, refresh: bool
) -> Served[Any]:
    # The counter is read before the records: a change made meanwhile leaves the stored view stale-stamped,
    # so it is refreshed later, never served as exact.
    start = view.start(community, at)
    values = {"community_id": community.id, "view": view.name, "period_start": start}
    counter, view_id, stored_version, data, computed_at, refresh_after = session.execute(
        _stored_query(), values
    ).one()
    current = counter or 0
    adapter = _adapter(view.kind)
    if view_id is None:  # never computed (a new community or period): nothing to serve but the records
        value = view.compute(session, community, at)
        computed = _store(
            session, community, view.name, start, current, adapter.dump_python(value, mode="json")
        )
        return Served(value, computed, behind=False)
    behind = stored_version != current
    if behind and refresh and refresh_after is None:
        due = max(computed_at + DEBOUNCE, now())
        session.execute(_ask_refresh(), {"view_id": view_id, "due": due})
    return Served(adapter.validate_python(data), computed_at, behind)


def _store(
    session: Session, community: Community, view: str, start: datetime, current: int, data: Any
) -> datetime:
    insert = dialect_insert(session)
    at = now()
    computed = {"version": current, "data": data, "computed_at": at, "refresh_after": None}
    session.execute(
        insert(HealthSnapshot)
        .values(
            team_id=community.team_id, community_id=community.id, view=view, period_start=start, **computed
        )
        .on_conflict_do_update(index_elements=["community_id", "view", "period_start"], set_=computed)
    )
    return at


# --- the background refresh (the `health-refresh-views` job) ------------------------------------


def _claimable(at: datetime) -> Any:
    return (
        HealthSnapshot.refresh_after <= at,
        or_(HealthSnapshot.refreshing_until.is_(None), HealthSnapshot.refreshing_until <= at),
    )


def due_refreshes(session: Session, *, at: datetime) -> list[int]:
    """The stored views due for a refresh at `at` that no process is refreshing, the longest due first."""
    due = select(HealthSnapshot.id).where(*_claimable(at)).order_by(HealthSnapshot.refresh_after)
    return list(session.scalars(due.limit(BATCH)))


def next_refresh(session: Session) -> datetime | None:
    """When the next refresh falls due (a claimed one: when its lease lapses), for the scheduler."""
    when = case(
        (HealthSnapshot.refreshing_until.is_(None), HealthSnapshot.refresh_after),
        else_=HealthSnapshot.refreshing_until,
    )
    earliest = select(type_coerce(func.min(when), UTCDateTime()))
    return session.scalar(earliest.where(HealthSnapshot.refresh_after.is_not(None)))


def claim_refresh(session: Session, *, view_id: int, at: datetime) -> datetime | None:
    """Claim a due view's refresh (compare-and-set): the lease's end, or None when another has it."""
    until = at + LEASE
    claimed = session.execute(
        update(HealthSnapshot)
        .where(HealthSnapshot.id == view_id, *_claimable(at))
        .values(refreshing_until=until)
    )
    return until if affected(claimed) == 1 else None


@dataclass(frozen=True)
class Refreshed:
    """A view the refresh recomputed."""

    community_id: int
    view: str

    @property
    def on_home(self) -> bool:
        """Whether the leads' App Home shows it."""
        return self.view in HOME_VIEWS


def refresh(session: Session, *, view_id: int, claimed_until: datetime, at: datetime) -> Refreshed | None:
    """Recompute a claimed view from the records as of `at` and store it, if the claim still holds.

    None when the view is gone (forget-me deleted it: nothing is written back), its period has ended
    (it is not read again), or the claim lapsed and another process took it.
    """
    row = session.execute(
        select(HealthSnapshot.community_id, HealthSnapshot.view, HealthSnapshot.period_start).where(
            HealthSnapshot.id == view_id
        )
    ).first()
    if row is None:
        return None
    community = session.get(Community, row.community_id)
    view = _view_named(row.view)
    mine = (HealthSnapshot.id == view_id, HealthSnapshot.refreshing_until == claimed_until)
    if community is None or view is None or view.start(community, at) != row.period_start:
        session.execute(update(HealthSnapshot).where(*mine).values(refresh_after=None, refreshing_until=None))
        return None
    current = version(session, community.id)  # before the records, as `_serve`
    data = _adapter(view.kind).dump_python(view.compute(session, community, at), mode="json")
    stored = session.execute(
        update(HealthSnapshot)
        .where(*mine)
        .values(version=current, data=data, computed_at=now(), refresh_after=None, refreshing_until=None)
    )
    return Refreshed(community.id, row.view) if affected(stored) == 1 else None


def forget(session: Session, person: Person) -> Counts:
    """Drop a workspace's stored views (they may list a forgotten person); they are recomputed on use."""
    dropped = session.execute(delete(HealthSnapshot).where(HealthSnapshot.team_id == person.team_id))
    return {"health_snapshots": affected(dropped)}


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Drop a workspace's views computed before the retention cutoff."""
    statement = delete(HealthSnapshot).where(HealthSnapshot.computed_at < cutoff)
    return affected(session.execute(statement.where(HealthSnapshot.team_id == team_id)))
