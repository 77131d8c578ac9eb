"""Every metric on a hand-built data set with known answers (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from copbot.communities.models import Role
from copbot.health import service
from copbot.health.periods import PeriodKind, last_weeks, period_at
from copbot.health.service import Pulse
from tests.unit.health import health_data as data
from tests.unit.health.health_data import AT, utc


@pytest.fixture
def guild(session: Session):
    return data.build(session)


def test_period_boundaries_follow_the_community_zone() -> None:
    week = period_at(PeriodKind.WEEK, utc(2026, 3, 29, 23), "Europe/Berlin")  # Monday 01:00 in Berlin (DST)
    assert week.first_day.isoformat() == "2026-03-30"
    assert week.start == utc(2026, 3, 29, 22) and week.end == utc(2026, 4, 5, 22)
    quarter = period_at(PeriodKind.QUARTER, AT, "UTC")
    assert (quarter.start, quarter.end, quarter.label) == (utc(2026, 1, 1), utc(2026, 4, 1), "2026 Q1")
    assert quarter.previous().label == "2025 Q4"
    assert period_at("month", AT, "UTC").label == "March 2026"
    weeks = last_weeks(AT, "UTC", 12)
    assert len(weeks) == 12 and weeks[-1].start == utc(2026, 3, 16) and weeks[0].start == utc(2025, 12, 29)


def test_membership_participation_and_contributions(session: Session, guild) -> None:
    m = service.metrics(session, community=guild, kind="month", at=AT)
    assert (m.period.start, m.stop) == (utc(2026, 3, 1), AT)
    assert (m.members, m.newcomers) == (5, 1)
    assert m.contributors == 4  # U1, U2, U3, U5; U4 only RSVPed
    assert m.participation == pytest.approx(0.8)
    assert m.by_kind == {
        "review": 3,
        "playbook": 1,
        "nomination": 4,
        "question": 1,
        "facilitation": 2,
        "attendance": 5,
    }
    assert m.contributions == 16


def test_attendance_consistency(session: Session, guild) -> None:
    m = service.metrics(session, community=guild, kind="month", at=AT)
    assert m.sessions == 2  # the excluded and the future session do not count
    assert m.attendance_rate == pytest.approx(5 / (2 * 5))
    assert m.regulars == 3


def test_cross_team_reach(session: Session, guild) -> None:
    m = service.metrics(session, community=guild, kind="month", at=AT)
    assert m.teams_reached == 3  # Eng, Ops, Sales
    assert m.outside_share == pytest.approx(6 / 15)  # Ops 5 + Sales 1 of 15 attributed, leads are Eng
    assert m.teams == []  # no team has 3 contributors: no breakdown


def test_team_breakdown_needs_three_people(session: Session, guild) -> None:
    for user in ("U8", "U10", "U11"):
        data.member(session, guild, user, joined=utc(2026, 1, 1), department="Data")
        data.review(session, guild, user, utc(2026, 3, 15))
    session.commit()
    m = service.metrics(session, community=guild, kind="month", at=AT)
    assert m.teams == [("Data", 3, 3)]


def test_adoption_and_review_lag(session: Session, guild) -> None:
    m = service.metrics(session, community=guild, kind="month", at=AT)
    assert (m.adoptions, m.adopters) == (3, 2)
    assert m.reviewed_sessions == 1
    assert m.review_lag_hours == pytest.approx(50.0)


def test_voice_balance(session: Session, guild) -> None:
    m = service.metrics(session, community=guild, kind="month", at=AT)
    assert m.voice_top_share == pytest.approx(5 / 15)  # the top 20% of 4 people is 1 person with 5


def test_pulse_needs_three_answers(session: Session, guild) -> None:
    m = service.metrics(session, community=guild, kind="month", at=AT)
    assert m.pulse == {"value": Pulse(3, 4.0), "safety": Pulse(2, None)}


def test_fairness_only_when_asked(session: Session, guild) -> None:
    assert service.metrics(session, community=guild, kind="month", at=AT).fairness is None
    fairness = service.metrics(session, community=guild, kind="month", at=AT, fairness=True).fairness
    assert fairness is not None
    assert (fairness.unrecognised, fairness.unrecognised_ids) == (2, ["U2", "U4"])
    assert fairness.giving_top_share == pytest.approx(2 / 4)
    assert fairness.cross_team_share == pytest.approx(3 / 4)


def test_small_groups_get_no_breakdown(session: Session) -> None:
    c = data.community(session)
    data.member(session, c, "U1", joined=utc(2026, 1, 1), department="Eng", roles=(Role.LEAD,))
    data.member(session, c, "U2", joined=utc(2026, 1, 1), department="Ops")
    data.review(session, c, "U1", utc(2026, 3, 2))
    data.review(session, c, "U2", utc(2026, 3, 3))
    data.nominate(session, c, "U1", ["U2"], utc(2026, 3, 4))
    session.commit()
    m = service.metrics(session, community=c, kind="month", at=AT, fairness=True)
    assert m.contributors == 2 and m.participation == 1.0
    assert m.voice_top_share is None and m.teams_reached is None and m.outside_share is None
    assert m.fairness.giving_top_share is None and m.fairness.cross_team_share is None


def test_week_and_quarter_windows(session: Session, guild) -> None:
    week = service.metrics(session, community=guild, kind="week", at=AT)
    assert week.contributions == 0 and week.sessions == 0  # 16 Mar onwards: only the excluded session
    quarter = service.metrics(session, community=guild, kind="quarter", at=AT)
    assert quarter.by_kind["review"] == 4  # February's review too
    assert quarter.adoptions == 4


def test_trends_per_week(session: Session, guild) -> None:
    weeks = service.trends(session, community=guild, at=AT)
    assert len(weeks) == 12
    by_start = {w.start.date().isoformat(): w for w in weeks}
    assert (by_start["2026-03-02"].contributions, by_start["2026-03-02"].contributors) == (10, 3)
    assert by_start["2026-03-02"].attendance == 3
    assert (by_start["2026-03-09"].contributions, by_start["2026-03-09"].contributors) == (6, 4)
    assert by_start["2026-02-09"].contributions == 1
    assert by_start["2026-03-16"].contributions == 0
    assert sum(w.contributions for w in weeks) == 17


def test_empty_community(session: Session) -> None:
    c = data.community(session)
    session.commit()
    m = service.metrics(session, community=c, kind="quarter", at=AT - timedelta(days=1), fairness=True)
    assert (m.members, m.contributors, m.participation, m.attendance_rate) == (0, 0, None, None)
    assert m.fairness.unrecognised == 0
    assert all(w.contributions == 0 for w in service.trends(session, community=c, at=AT))
