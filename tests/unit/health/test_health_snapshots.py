"""Cached health views: served while nothing changed, recomputed after any change (triggers), forgotten
with the people they name, purged by retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from copbot import privacy
from copbot.feature import Person
from copbot.features import FEATURES
from copbot.health import service, snapshots
from copbot.health.models import HealthSnapshot
from copbot.rituals.models import Attendance
from tests.unit.health import health_data as data
from tests.unit.health.health_data import AT, TEAM, utc


class Statements:
    """Counts the SQL statements a block runs."""

    def __init__(self, session: Session):
        self.count, self._engine = 0, session.get_bind()

    def __enter__(self) -> Statements:
        event.listen(self._engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1


def _quarter(session: Session, c) -> service.Metrics:
    return snapshots.metrics(session, community=c, kind="quarter", at=AT, fairness=True)


def test_a_stored_view_is_served_while_nothing_changed(session: Session) -> None:
    c = data.build(session)
    session.commit()
    first, weeks = _quarter(session, c), snapshots.trends(session, community=c, at=AT)
    assert first == service.metrics(session, community=c, kind="quarter", at=AT, fairness=True)
    assert weeks == service.trends(session, community=c, at=AT)
    with Statements(session) as seen:
        assert _quarter(session, c) == first
        assert snapshots.trends(session, community=c, at=AT) == weeks
    assert seen.count == 2  # one read per view: the community's counter and the stored view together


@pytest.mark.parametrize("change", ["new nomination", "attendance marked", "member left", "review deleted"])
def test_any_change_to_what_metrics_read_is_seen_at_once(session: Session, change: str) -> None:
    c = data.build(session)
    session.commit()
    before = _quarter(session, c)
    session.commit()
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
    after = _quarter(session, c)
    assert after == service.metrics(session, community=c, kind="quarter", at=AT, fairness=True)
    assert after != before


def test_forget_me_and_retention_delete_stored_views(session: Session) -> None:
    c = data.build(session)
    data.member(session, c, "U0FORGET", joined=utc(2026, 1, 5), department="Eng")  # never recognised
    session.commit()
    assert "U0FORGET" in _quarter(session, c).fairness.unrecognised_ids
    snapshots.trends(session, community=c, at=AT)
    session.commit()
    assert "U0FORGET" in str(session.scalars(select(HealthSnapshot.data)).all())
    privacy.forget(session, FEATURES, Person(TEAM, "U0FORGET"))
    session.commit()
    assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 0
    assert "U0FORGET" not in _quarter(session, c).fairness.unrecognised_ids
    session.commit()
    snapshots.purge_before(session, AT - timedelta(days=1), team_id=TEAM)  # computed now: kept
    assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 1
    from copbot.clock import now

    snapshots.purge_before(session, now() + timedelta(seconds=1), team_id=TEAM)  # retention
    assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 0
