"""Community rules: creation makes a lead, edits are for leads, join/leave keep history."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities import service
from copbot.communities.models import Community, Member, Role
from copbot.errors import InvalidInput, NotFound, PermissionDenied

FORM = {
    "name": "Incident Guild",
    "purpose": "Learn from every incident we run.",
    "learning_goals": "Better postmortems",
    "boundaries": "",
    "norms": "Blameless",
    "timezone": "Europe/Berlin",
}


def _create(session: Session, user: str = "U1", channel: str = "C1") -> Community:
    community, created = service.save_community(
        session, team_id="T1", channel_id=channel, user_id=user, form=service.CommunityForm.parse(FORM)
    )
    assert created
    return community


def test_creator_becomes_first_lead(session: Session) -> None:
    community = _create(session)
    assert service.leads(session, community=community) == ["U1"]
    member = service.find_member(session, community=community, user_id="U1")
    assert member is not None and member.role_names == {Role.LEAD}
    assert community.timezone == "Europe/Berlin"


def test_only_a_lead_edits(session: Session) -> None:
    _create(session)
    service.join(session, team_id="T1", channel_id="C1", user_id="U2")
    edited = service.CommunityForm.parse({**FORM, "name": "Renamed"})
    with pytest.raises(PermissionDenied, match="<@U1>"):
        service.save_community(session, team_id="T1", channel_id="C1", user_id="U2", form=edited)
    community, created = service.save_community(
        session, team_id="T1", channel_id="C1", user_id="U1", form=edited
    )
    assert not created and community.name == "Renamed"


@pytest.mark.parametrize(
    ("field", "value", "block"),
    [
        ("name", "x", "name"),
        ("purpose", "short", "purpose"),
        ("timezone", "Mars/Base", "timezone"),
        ("timezone", "", "timezone"),
        ("norms", "n" * 3001, "norms"),
    ],
)
def test_invalid_form_names_the_field(field: str, value: str, block: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.CommunityForm.parse({**FORM, field: value})
    assert list(caught.value.field_errors) == [block]


def test_join_leave_and_rejoin_keep_one_row(session: Session) -> None:
    _create(session)
    assert service.join(session, team_id="T1", channel_id="C1", user_id="U2")[1] is True
    assert service.join(session, team_id="T1", channel_id="C1", user_id="U2")[1] is False
    assert service.leave(session, team_id="T1", channel_id="C1", user_id="U2")[1] is True
    assert service.leave(session, team_id="T1", channel_id="C1", user_id="U2")[1] is False
    assert service.join(session, team_id="T1", channel_id="C1", user_id="U2")[1] is True
    rows = session.scalar(select(func.count()).select_from(Member).where(Member.user_id == "U2"))
    assert rows == 1


def test_join_without_community_says_how_to_make_one(session: Session) -> None:
    with pytest.raises(NotFound, match="/cop setup"):
        service.join(session, team_id="T1", channel_id="C404", user_id="U2")


def test_workspaces_do_not_see_each_other(session: Session) -> None:
    _create(session)
    assert service.community_for_channel(session, team_id="T2", channel_id="C1") is None
    with pytest.raises(NotFound):
        service.join(session, team_id="T2", channel_id="C1", user_id="U9")


def test_timezone_search_puts_city_matches_first() -> None:
    found = service.find_timezones("berlin")
    assert found[0] == "Europe/Berlin"
    assert "America/New_York" in service.find_timezones("new york")
    assert len(service.find_timezones("a")) <= 100
    assert "US/Pacific" not in service.timezone_names()


def test_installed_communities_leave_out_uninstalled_workspaces(session: Session) -> None:
    _create(session, channel="C1")
    service.save_community(
        session, team_id="T2", channel_id="C2", user_id="U2", form=service.CommunityForm.parse(FORM)
    )
    assert [c.channel_id for c in session.scalars(service.installed_communities())] == ["C1", "C2"]
    service.ensure_workspace(session, team_id="T2").uninstalled_at = now()
    assert [c.channel_id for c in session.scalars(service.installed_communities())] == ["C1"]
