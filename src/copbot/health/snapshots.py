"""Cached health views: a community's metrics and trend, stored with its change counter, served at once.

A view is computed once and stored with the community's counter (`health_versions`, bumped by database
triggers on every table the metrics read). While the counter has not moved the stored view is exact.
When it has moved the stored view is still served at once (marked behind, with the instant it was
computed), and the read asks for a background refresh: the `health-refresh-views` job recomputes it at
most once per `DEBOUNCE`, claimed by compare-and-set on the row so one replica does it. When a period
ends, the same job computes the new period of each view read in the old one (`rollovers`); only a view
never computed (a new community, a view nobody read last period) is computed inline. At 1M records a
recompute takes seconds (BENCHMARKS.md); served this way App Home and `/cop stats` cost a few index reads
whatever changed.

Correct across replicas: the counter, the views and the claims live in the database. Plain Python: no
Slack code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Generic, Protocol, TypeVar, cast

from pydantic import TypeAdapter
from sqlalchemy import (
    Select,
    Table,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
    update,
)
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


class Located(Protocol):
    """What reading a community's stored views needs of it (a `Community`, or App Home's few columns)."""

    @property
    def id(self) -> int: ...

    @property
    def team_id(self) -> str: ...

    @property
    def timezone(self) -> str: ...


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
    start: Callable[[Located, datetime], datetime]  # the period the view at `at` covers
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
_HOME = (_metrics_view(HOME_METRICS, True), _trend_view(12))  # the views a lead's App Home reads together
HOME_VIEWS = frozenset(view.name for view in _HOME)


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
    return _serve(session, community, [_metrics_view(PeriodKind(kind), fairness)], at, refresh=refresh)[0]


def trends(
    session: Session, *, community: Community, at: datetime, weeks: int = 12, refresh: bool = True
) -> Served[list[service.Week]]:
    """`service.trends` from the stored view, as `metrics`."""
    return _serve(session, community, [_trend_view(weeks)], at, refresh=refresh)[0]


def home_dashboard(
    session: Session, *, community: Located, at: datetime, refresh: bool = True
) -> tuple[Served[service.Metrics], Served[list[service.Week]]]:
    """A lead's App Home views of the community (`HOME_VIEWS`: this month's metrics with fairness, the
    12-week trend) in one read, each served as `metrics` and `trends` serve it."""
    metrics, trend = _serve(session, community, _HOME, at, refresh=refresh)
    return metrics, trend


def version(session: Session, community_id: int) -> int:
    """The community's change counter (0 before its first change)."""
    counter = select(HealthVersion.version).where(HealthVersion.community_id == community_id)
    return session.scalar(counter) or 0


_SNAPSHOTS_TABLE = cast(Table, HealthSnapshot.__table__)
_SNAPSHOTS = _SNAPSHOTS_TABLE.c
_VERSIONS = cast(Table, HealthVersion.__table__).c


@cache
def _stored_query() -> Select[Any]:
    """The community's counter and its stored views, in one read (Core: the rows are only read)."""
    counter = (
        select(_VERSIONS.version).where(_VERSIONS.community_id == bindparam("community_id")).scalar_subquery()
    )
    # The views and period starts asked for: a row pairing one view with another's start is dropped after.
    stored = (
        select(
            _SNAPSHOTS.id,
            _SNAPSHOTS.view,
            _SNAPSHOTS.period_start,
            _SNAPSHOTS.version,
            _SNAPSHOTS.data,
            _SNAPSHOTS.computed_at,
            _SNAPSHOTS.refresh_after,
        )
        .where(
            _SNAPSHOTS.community_id == bindparam("community_id"),
            _SNAPSHOTS.view.in_(bindparam("views", expanding=True)),
            _SNAPSHOTS.period_start.in_(bindparam("starts", expanding=True)),
        )
        .subquery()
    )
    # An outer join to the one-row select of the counter: the counter comes back whether a view is stored.
    return select(counter, *stored.c).select_from(
        select(literal(1).label("one")).subquery().outerjoin(stored, true())
    )


@cache
def _ask_refresh() -> Any:
    """Mark a stored view due for its refresh, once (the first read that finds it behind)."""
    return (
        update(_SNAPSHOTS_TABLE)
        .where(_SNAPSHOTS.id == bindparam("view_id"), _SNAPSHOTS.refresh_after.is_(None))
        .values(refresh_after=bindparam("due"))
    )


def _serve(
    session: Session, community: Located, views: Sequence[_View], at: datetime, *, refresh: bool
) -> list[Served[Any]]:
    # The counter is read before the records: a change made meanwhile leaves the stored view stale-stamped,
    # so it is refreshed later, never served as exact.
    starts = [view.start(community, at) for view in views]
    values = {"community_id": community.id, "views": [v.name for v in views], "starts": starts}
    rows = session.execute(_stored_query(), values).all()
    current = rows[0][0] or 0
    stored = {(row.view, row.period_start): row for row in rows if row.id is not None}
    served = []
    for view, start in zip(views, starts, strict=True):
        adapter = _adapter(view.kind)
        row = stored.get((view.name, start))
        if row is None:  # never computed (a new community or period): nothing to serve but the records
            value = view.compute(session, _full(session, community), at)
            computed = _store(
                session, community, view.name, start, current, adapter.dump_python(value, mode="json")
            )
            served.append(Served(value, computed, behind=False))
            continue
        behind = row.version != current
        if behind and refresh and row.refresh_after is None:
            due = max(row.computed_at + DEBOUNCE, now())
            session.execute(_ask_refresh(), {"view_id": row.id, "due": due})
        served.append(Served(adapter.validate_python(row.data), row.computed_at, behind))
    return served


def _full(session: Session, community: Located) -> Community:
    """The community's row, for a compute (App Home reads only a few of its columns)."""
    if isinstance(community, Community):
        return community
    found = session.get(Community, community.id)
    if found is None:
        raise LookupError(f"community {community.id} is gone")
    return found


def _store(
    session: Session, community: Located, view: str, start: datetime, current: int, data: Any
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


# --- the new period's views, computed ahead of their first read (the same job) --------------------


def rollovers(session: Session, *, at: datetime) -> list[tuple[int, str]]:
    """(community id, view) of each view read in its previous period whose current period is not stored
    yet: right after a week, month or quarter ends, a dashboard in use would otherwise make its first
    reader wait for a whole pass over the records. A view nobody read last period is left to its reader."""
    latest = session.execute(
        select(
            HealthSnapshot.community_id,
            HealthSnapshot.view,
            type_coerce(func.max(HealthSnapshot.period_start), UTCDateTime()),
        ).group_by(HealthSnapshot.community_id, HealthSnapshot.view)
    ).all()
    ids = {community_id for community_id, _, _ in latest}
    found = {c.id: c for c in session.scalars(select(Community).where(Community.id.in_(ids)))} if ids else {}
    owed = []
    for community_id, name, stored_start in latest:
        community, view = found.get(community_id), _view_named(name)
        if community is None or view is None or stored_start is None:
            continue
        current = view.start(community, at)
        previous = view.start(community, current - timedelta(microseconds=1))
        if stored_start == previous != current:
            owed.append((community_id, name))
    return owed


def roll_over(session: Session, *, community_id: int, view: str, at: datetime) -> bool:
    """Compute and store a view's current period ahead of its first read; False when there is nothing
    to do (stored meanwhile by a reader, or the community or the view is gone)."""
    community, named = session.get(Community, community_id), _view_named(view)
    if community is None or named is None:
        return False
    start = named.start(community, at)
    stored = select(HealthSnapshot.id).where(
        HealthSnapshot.community_id == community_id,
        HealthSnapshot.view == view,
        HealthSnapshot.period_start == start,
    )
    if session.scalar(stored) is not None:
        return False
    current = version(session, community_id)  # before the records, as `_serve`
    data = _adapter(named.kind).dump_python(named.compute(session, community, at), mode="json")
    _store(session, community, view, start, current, data)  # an upsert: a reader's own compute may race it
    return True


def forget(session: Session, person: Person) -> Counts:
    """Drop a workspace's stored views (they may list a forgotten person); they are recomputed on use."""
    dropped = session.execute(delete(HealthSnapshot).where(HealthSnapshot.team_id == person.team_id))
    return {"health_snapshots": affected(dropped)}


def purge_before(session: Session, cutoff: datetime, team_id: str) -> int:
    """Drop a workspace's views computed before the retention cutoff."""
    statement = delete(HealthSnapshot).where(HealthSnapshot.computed_at < cutoff)
    return affected(session.execute(statement.where(HealthSnapshot.team_id == team_id)))
