"""Recognition rules against a real database: the weekly limit under concurrency, facts, settings."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.db import session_factory, session_scope
from copbot.errors import InvalidInput, PermissionDenied
from copbot.feature import Person
from copbot.recognition import service
from copbot.recognition.models import Nomination, NominationQuota

AT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


def make_community(session: Session, *, channel_id: str = "C1", zone: str = "Europe/Berlin") -> Community:
    """A community led by U1."""
    form = communities.CommunityForm.parse(
        {"name": "Incident Guild", "purpose": "Learn from every incident.", "timezone": zone}
    )
    community, _ = communities.save_community(
        session, team_id="T1", channel_id=channel_id, user_id="U1", form=form
    )
    session.commit()
    return community


def form(nominees: list[str], **changes: object) -> service.NominationForm:
    base = {
        "nominees": nominees,
        "value": "Mentoring",
        "action": "Walked me through the deploy runbook line by line",
        "impact": "I ran my first deploy alone",
        "public": True,
    }
    return service.NominationForm(**{**base, **changes})  # type: ignore[arg-type]


def test_parse_command_text_reads_escaped_mentions() -> None:
    assert service.parse_command_text("<@U2|ada> <@W3> and <@U2|ada> for the runbook") == (
        ["U2", "W3"],
        "for the runbook",
    )
    assert service.parse_command_text("thanks <@U2|ada>") == ([], "thanks <@U2|ada>")
    assert service.parse_command_text("") == ([], "")


def test_week_starts_on_the_local_monday() -> None:
    sunday_night_utc = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already Monday in Berlin
    assert service.week_start(sunday_night_utc, "Europe/Berlin") == date(2026, 3, 2)
    assert service.week_start(sunday_night_utc, "America/New_York") == date(2026, 2, 23)


def test_weekly_limit_holds_under_concurrent_submissions(engine: Engine) -> None:
    sessions = session_factory(engine)
    with session_scope(sessions) as session:
        community_id = make_community(session).id
    attempts = 12
    barrier = threading.Barrier(attempts)

    def attempt(_: int) -> bool:
        barrier.wait()
        try:
            with session_scope(sessions) as session:
                community = session.get(Community, community_id)
                service.nominate(session, community=community, nominator_id="U1", form=form(["U2"]), at=AT)
            return True
        except InvalidInput:
            return False

    with ThreadPoolExecutor(attempts) as pool:
        results = list(pool.map(attempt, range(attempts)))
    assert results.count(True) == 5
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Nomination)) == 5
        assert session.scalars(select(NominationQuota.used)).all() == [5]
        community = session.get(Community, community_id)
        assert service.remaining(session, community=community, user_id="U1", at=AT) == 0
        next_week = AT + timedelta(days=7)
        assert service.remaining(session, community=community, user_id="U1", at=next_week) == 5


def test_a_refused_nomination_uses_no_slot(session: Session) -> None:
    community = make_community(session)
    service.record_facts(session, team_id="T1", facts=[service.Fact("UBOT", is_bot=True, deleted=False)])
    with pytest.raises(InvalidInput) as refused:
        service.nominate(session, community=community, nominator_id="U1", form=form(["UBOT"]), at=AT)
    assert "<@UBOT> is a bot" in refused.value.field_errors["nominees"]
    session.rollback()
    assert service.remaining(session, community=community, user_id="U1", at=AT) == 5


def test_stale_facts_are_asked_again(session: Session) -> None:
    service.record_facts(session, team_id="T1", facts=[service.Fact("U2", is_bot=False, deleted=False)])
    session.commit()
    assert service.stale_users(session, team_id="T1", user_ids=["U2", "U3"]) == ["U3"]
    later = datetime.now(UTC) + service.FACTS_MAX_AGE + timedelta(minutes=1)
    assert service.stale_users(session, team_id="T1", user_ids=["U2"], at=later) == ["U2"]
    service.record_facts(session, team_id="T1", facts=[service.Fact("U2", is_bot=False, deleted=True)])
    assert service.refused_users(session, team_id="T1", user_ids=["U2"]) == {"U2": "deactivated"}


def test_settings_are_parsed_and_for_leads_only(session: Session) -> None:
    community = make_community(session)
    change = service.parse_setting("digest Friday 16:30")
    with pytest.raises(PermissionDenied):
        service.change_setting(session, community=community, user_id="U2", change=change)
    service.change_setting(session, community=community, user_id="U1", change=change)
    stored = service.settings_for(session, community=community)
    assert (stored.digest_weekday, stored.digest_time, stored.digest_enabled) == (4, "16:30", True)
    for bad in ("limit 0", "digest someday 9:00", "digest monday 25:00", "public later", ""):
        with pytest.raises(InvalidInput):
            service.parse_setting(bad)


def test_resolve_community_outside_its_channel(session: Session) -> None:
    first = make_community(session, channel_id="C1")
    assert service.resolve_community(session, team_id="T1", channel_id="C9", user_id="U1").id == first.id
    make_community(session, channel_id="C2")
    with pytest.raises(Exception, match="several communities"):
        service.resolve_community(session, team_id="T1", channel_id="C9", user_id="U1")


def test_forget_user_and_purge(session: Session) -> None:
    community = make_community(session)
    by_u2, _ = service.nominate(session, community=community, nominator_id="U2", form=form(["U3"]), at=AT)
    service.nominate(session, community=community, nominator_id="U1", form=form(["U2"]), at=AT)
    service.nominate(session, community=community, nominator_id="U1", form=form(["U2", "U3"]), at=AT)
    session.commit()
    service.forget_user(session, Person("T1", "U2"))
    session.commit()
    session.expire_all()
    left = session.scalars(select(Nomination).order_by(Nomination.id)).all()
    assert [(n.nominator_id, n.nominee_ids) for n in left] == [(None, ["U3"]), ("U1", ["U3"])]
    records = service.export_nominations(session, communities_=[community])
    assert [r["nominees"] for r in records] == [["U3"], ["U3"]] and records[0]["channel_id"] == "C1"
    service.purge_before(session, cutoff=AT + timedelta(days=1), team_id="T2")
    assert session.scalar(select(func.count()).select_from(Nomination)) == 2
    service.purge_before(session, cutoff=AT + timedelta(days=1), team_id="T1")
    assert session.scalar(select(func.count()).select_from(Nomination)) == 0
    assert by_u2.id
