"""Cached health views: served while nothing changed; after any change (triggers) served as stored and
refreshed in the background, once per debounce interval, by one replica; forgotten with the people they
name, purged by retention."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copbot import privacy
from copbot.clock import now
from copbot.feature import Person
from copbot.features import FEATURES
from copbot.health import jobs as health_jobs
from copbot.health import service, snapshots
from copbot.health.models import HealthSnapshot
from copbot.rituals.models import Attendance
from copbot.runtime import Runtime
from copbot.scheduling.jobs import JobContext
from tests.unit.health import health_data as data
from tests.unit.health.health_data import AT, TEAM, Statements, utc


def _quarter(session: Session, c, at: datetime = AT) -> snapshots.Served[service.Metrics]:
    return snapshots.metrics(session, community=c, kind="quarter", at=at, fairness=True)


def test_a_stored_view_is_served_while_nothing_changed(session: Session) -> None:
    c = data.build(session)
    session.commit()
    first, weeks = _quarter(session, c), snapshots.trends(session, community=c, at=AT)
    assert first.value == service.metrics(session, community=c, kind="quarter", at=AT, fairness=True)
    assert weeks.value == service.trends(session, community=c, at=AT)
    with Statements(session) as seen:
        assert _quarter(session, c) == first
        assert snapshots.trends(session, community=c, at=AT) == weeks
    assert seen.count == 2  # one read per view: the community's counter and the stored view together
    assert not first.behind and first.as_of is None


class Computed:
    """Counts the recomputes of metrics and trends from the records (the costly part of a miss)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.count = 0
        for name in ("metrics", "trends"):
            original = getattr(service, name)
            monkeypatch.setattr(service, name, self._counting(original))

    def _counting(self, original):
        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        return counted


def _change(session: Session, c, change: str) -> None:
    if change == "new nomination":
        data.nominate(session, c, "U4", ["U2"], utc(2026, 3, 10))
    elif change == "attendance marked":
        row = session.scalars(select(Attendance).where(Attendance.attended.is_(False))).first()
        assert row is not None
        row.attended = True
    elif change == "member left":
        found = session.scalars(select(data.Member).where(data.Member.user_id == "U5")).one()
        found.left_at = utc(2026, 3, 1)
    else:
        in_quarter = select(data.Review).where(data.Review.created_at >= utc(2026, 1, 1))
        session.delete(session.scalars(in_quarter).first())
    session.commit()


def _stored(session: Session) -> HealthSnapshot:
    session.expire_all()
    return session.scalars(select(HealthSnapshot).where(HealthSnapshot.view == "metrics:quarter:fair")).one()


def _refresh(runtime: Runtime) -> int:
    return health_jobs.refresh_views(JobContext(deps=runtime.deps, at=now()))


@pytest.mark.parametrize("change", ["new nomination", "attendance marked", "member left", "review deleted"])
def test_after_a_change_the_stored_view_is_served_and_refreshed_in_the_background(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    c = data.build(session)
    session.commit()
    with freeze_time(AT) as clock:
        before = _quarter(session, c)
        session.commit()
        _change(session, c, change)
        clock.tick(timedelta(seconds=5))
        computed = Computed(monkeypatch)
        served = _quarter(session, c)
        session.commit()
        assert computed.count == 0  # nothing recomputed inline
        assert served.value == before.value and served.behind and served.as_of == before.computed_at
        row = _stored(session)
        assert row.version < snapshots.version(session, c.id)  # stays behind until the refresh runs
        assert row.refresh_after == before.computed_at + snapshots.DEBOUNCE  # asked for once, debounced
        clock.tick(snapshots.DEBOUNCE)
        assert _refresh(runtime) == 1
        assert computed.count == 1
        after = _quarter(session, c, now())
        assert not after.behind
        assert after.value == service.metrics(session, community=c, kind="quarter", at=now(), fairness=True)
        assert after.value != before.value


def test_a_view_is_recomputed_at_most_once_per_debounce_interval(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = data.build(session)
    session.commit()
    with freeze_time(AT) as clock:
        computed_at = _quarter(session, c).computed_at
        session.commit()
        for day in (2, 3):
            data.nominate(session, c, "U4", ["U2"], utc(2026, 3, day))
            session.commit()
            clock.tick(timedelta(seconds=20))
            assert _quarter(session, c).behind
            session.commit()
            computed = Computed(monkeypatch)
            clock.tick(timedelta(seconds=30))  # 50 s after the last compute: not yet
            assert _refresh(runtime) == 0 and computed.count == 0
            assert _quarter(session, c).behind
            session.commit()
            clock.move_to(computed_at + snapshots.DEBOUNCE)  # a minute after it: refreshed once
            assert _refresh(runtime) == 1 and _refresh(runtime) == 0
            assert computed.count == 1
            refreshed = _quarter(session, c)
            session.commit()
            assert not refreshed.behind and refreshed.computed_at == now()
            computed_at = refreshed.computed_at


def test_two_replicas_refreshing_at_once_recompute_a_view_once(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    c = data.build(session)
    session.commit()
    other = Runtime(settings)  # a second replica: its own engine and connections
    with freeze_time(AT) as clock:
        _quarter(session, c)
        session.commit()
        data.nominate(session, c, "U4", ["U2"], utc(2026, 3, 10))
        session.commit()
        assert _quarter(session, c).behind
        session.commit()
        clock.tick(snapshots.DEBOUNCE)
        computed = Computed(monkeypatch)
        both = threading.Barrier(2)
        done: list[int] = []

        def replica(r: Runtime) -> None:
            both.wait()
            done.append(_refresh(r))

        threads = [threading.Thread(target=replica, args=(r,)) for r in (runtime, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(done) == [0, 1] and computed.count == 1
        assert not _quarter(session, c).behind
    other.engine.dispose()


def _due_for_refresh(session: Session, c, clock) -> int:  # c: a community; clock: freezegun's
    """Store the quarter's view, change a record, read it again (behind: a refresh is asked for), and
    let the debounce pass; the view's id."""
    _quarter(session, c)
    session.commit()
    data.nominate(session, c, "U4", ["U2"], utc(2026, 3, 10))
    session.commit()
    _quarter(session, c)
    session.commit()
    clock.tick(snapshots.DEBOUNCE)
    return _stored(session).id


def test_a_lapsed_claim_is_taken_over_and_its_late_result_dropped(session: Session) -> None:
    c = data.build(session)
    session.commit()
    with freeze_time(AT) as clock:
        view_id = _due_for_refresh(session, c, clock)
        first = snapshots.claim_refresh(session, view_id=view_id, at=now())
        session.commit()
        assert first is not None and snapshots.claim_refresh(session, view_id=view_id, at=now()) is None
        clock.tick(snapshots.LEASE)  # the first process died: its claim lapses
        second = snapshots.claim_refresh(session, view_id=view_id, at=now())
        session.commit()
        assert second is not None
        assert snapshots.refresh(session, view_id=view_id, claimed_until=first, at=now()) is None
        assert _stored(session).version < snapshots.version(session, c.id)  # the late result is dropped
        assert snapshots.refresh(session, view_id=view_id, claimed_until=second, at=now()) is not None
        session.commit()
        assert _stored(session).version == snapshots.version(session, c.id)


def test_a_refresh_writes_nothing_back_for_a_view_forget_me_deleted(session: Session) -> None:
    c = data.build(session)
    session.commit()
    with freeze_time(AT) as clock:
        view_id = _due_for_refresh(session, c, clock)
        claimed = snapshots.claim_refresh(session, view_id=view_id, at=now())
        session.commit()
        assert claimed is not None
        privacy.forget(session, FEATURES, Person(TEAM, "U0FORGET"))
        session.commit()
        assert snapshots.refresh(session, view_id=view_id, claimed_until=claimed, at=now()) is None
        session.commit()
        assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 0


def test_a_new_period_is_computed_at_once_and_the_old_one_is_not_refreshed(
    session: Session, runtime: Runtime
) -> None:
    c = data.build(session)
    session.commit()
    with freeze_time(AT) as clock:
        _quarter(session, c)
        session.commit()
        data.nominate(session, c, "U4", ["U2"], utc(2026, 3, 10))
        session.commit()
        _quarter(session, c)  # behind: a refresh is asked for
        session.commit()
        clock.move_to(utc(2026, 4, 1, 9))  # the quarter has ended before the refresh ran
        fresh = _quarter(session, c, now())
        session.commit()
        assert not fresh.behind and fresh.value.period.quarter_key == "2026Q2"
        assert _refresh(runtime) == 0
        old = session.scalars(
            select(HealthSnapshot).where(HealthSnapshot.period_start < utc(2026, 3, 31))
        ).one()
        assert old.refresh_after is None and old.refreshing_until is None


def _roll_over(runtime: Runtime, **kwargs: float) -> int:
    return health_jobs.roll_over_views(JobContext(deps=runtime.deps, at=now()), **kwargs)


def test_the_views_read_last_period_are_computed_for_the_new_one_before_anyone_reads_them(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = data.build(session)
    session.commit()
    _quarter(session, c)  # Q1, and the 12 weeks up to AT's: the dashboards in use (read before freezegun
    snapshots.trends(session, community=c, at=AT)  # replaces `date`, which the stored types hold)
    session.commit()
    with freeze_time(utc(2026, 3, 23, 12)) as clock:  # the next week, the same quarter
        assert _roll_over(runtime, budget=0) == 0  # out of time: left for the next run
        assert _roll_over(runtime) == 1  # the trend
        clock.move_to(utc(2026, 4, 1, 12))  # the next week again, and a new quarter
        assert _roll_over(runtime) == 2
        assert _roll_over(runtime) == 0  # stored: nothing left to roll over
        computed = Computed(monkeypatch)
        quarter, weeks = _quarter(session, c, now()), snapshots.trends(session, community=c, at=now())
        assert computed.count == 0  # the first reads of the new periods compute nothing
        assert not quarter.behind and quarter.value.period.quarter_key == "2026Q2"
        assert quarter.value == service.metrics(session, community=c, kind="quarter", at=now(), fairness=True)
        assert not weeks.behind and weeks.value == service.trends(session, community=c, at=now())


def test_a_view_nobody_read_last_period_is_left_to_its_reader(session: Session, runtime: Runtime) -> None:
    c = data.build(session)
    session.commit()
    with freeze_time(AT) as clock:
        _quarter(session, c)  # read in Q1 only
        session.commit()
        clock.move_to(utc(2026, 7, 2, 9))  # Q3: nobody looked during Q2
        assert _roll_over(runtime) == 0
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 1


def test_forget_me_and_retention_delete_stored_views(session: Session) -> None:
    c = data.build(session)
    data.member(session, c, "U0FORGET", joined=utc(2026, 1, 5), department="Eng")  # never recognised
    session.commit()
    assert "U0FORGET" in _quarter(session, c).value.fairness.unrecognised_ids
    snapshots.trends(session, community=c, at=AT)
    session.commit()
    assert "U0FORGET" in str(session.scalars(select(HealthSnapshot.data)).all())
    privacy.forget(session, FEATURES, Person(TEAM, "U0FORGET"))
    session.commit()
    assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 0
    assert "U0FORGET" not in _quarter(session, c).value.fairness.unrecognised_ids
    session.commit()
    snapshots.purge_before(session, AT - timedelta(days=1), team_id=TEAM)  # computed now: kept
    assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 1
    snapshots.purge_before(session, now() + timedelta(seconds=1), team_id=TEAM)  # retention
    assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 0


def test_a_leads_home_views_are_read_together_and_served_as_each_alone(session: Session) -> None:
    c = data.build(session)
    session.commit()
    with freeze_time(AT) as clock:
        metrics, trend = snapshots.home_dashboard(session, community=c, at=AT)  # computed: never stored
        session.commit()
        assert metrics.value == service.metrics(session, community=c, kind="month", at=AT, fairness=True)
        assert trend.value == service.trends(session, community=c, at=AT)
        with Statements(session) as seen:
            assert snapshots.home_dashboard(session, community=c, at=AT) == (metrics, trend)
        assert seen.count == 1  # the counter and both stored views in one read
        _change(session, c, "new nomination")
        clock.tick(timedelta(seconds=5))
        with Statements(session) as seen:
            behind = snapshots.home_dashboard(session, community=c, at=AT)
        session.commit()
        assert [s.value for s in behind] == [metrics.value, trend.value]
        assert all(s.behind and s.as_of is not None for s in behind)
        assert seen.count == 3  # the read, then each view marked once for its background refresh
        session.expire_all()
        marks = select(HealthSnapshot.refresh_after).where(HealthSnapshot.community_id == c.id)
        assert sorted(session.scalars(marks)) == [metrics.computed_at + snapshots.DEBOUNCE] * 2
