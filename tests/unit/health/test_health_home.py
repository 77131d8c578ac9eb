"""App Home views for a member, a lead, a newcomer and a stranger; the 100-block limit with large data."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session

from copbot.communities.models import Role
from copbot.health import blocks, chart, flows, home
from copbot.health.service import Week
from tests.unit.health import health_data as data
from tests.unit.health.health_data import AT, TEAM, Statements, utc


def _text(view: dict) -> str:
    return json.dumps(view, ensure_ascii=False)


def test_member_sees_communities_sessions_recognition(session: Session) -> None:
    data.build(session)
    found = home.home(session, team_id=TEAM, user_id="U3", at=AT)
    assert [m.community.name for m in found.memberships] == ["Guild"]
    assert (
        found.memberships[0].contributions == 6
    )  # Q1: review in Feb, playbook, nomination, facilitation, 2 attendances
    assert (found.memberships[0].attended, found.memberships[0].sessions) == (2, 2)
    assert found.recognition.received == 1 and found.recognition.given == 1
    assert found.dashboards == [] and found.newcomer_in == []
    view = blocks.home_view(found)
    text = _text(view)
    assert "Your communities" in text and "<#C1>" in text and "2 of 2 sessions attended" in text
    assert "Next sessions" in text and "<@U2>" in text  # 23 March, facilitated by U2
    assert "Fairness" not in text and "Last 12 weeks" not in text
    actions = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["review_open", "health_refresh_home"]


def test_lead_gets_the_dashboard_with_sparklines_and_fairness(session: Session) -> None:
    data.build(session)
    found = home.home(session, team_id=TEAM, user_id="U1", at=AT)
    assert len(found.dashboards) == 1
    text = _text(blocks.home_view(found))
    assert "Guild: March 2026 so far" in text
    assert "Participation" in text and "80%" in text
    assert (
        "Last 12 weeks" in text
        and blocks.sparkline([w.contributions for w in found.dashboards[0].trend]) in text
    )
    assert "Fairness" in text and "<@U2>, <@U4>" in text
    assert "health_open_setup" in text
    assert "Your facilitation turns" not in text  # U1 has no coming turn


def test_facilitator_sees_their_turn(session: Session) -> None:
    data.build(session)
    text = _text(blocks.home_view(home.home(session, team_id=TEAM, user_id="U2", at=AT)))
    assert "Your facilitation turns" in text


def test_newcomer_gets_a_welcome_with_their_mentor(session: Session) -> None:
    data.build(session)
    found = home.home(session, team_id=TEAM, user_id="U4", at=AT)
    assert [m.community.name for m in found.newcomer_in] == ["Guild"]
    text = _text(blocks.home_view(found))
    assert "New to Guild?" in text and "Your mentor is <@U3>" in text and "/cop ask" in text


def test_home_gathers_roles_sessions_turns_and_recognition_of_each_community(session: Session) -> None:
    data.build(session)
    lead = home.home(session, team_id=TEAM, user_id="U1", at=AT)
    assert [(m.community.name, m.roles, m.is_lead) for m in lead.memberships] == [
        ("Guild", ["lead"], True),
        ("Other", [], False),
    ]
    assert [(u.community.name, u.starts_at, u.facilitator_id) for u in lead.upcoming] == [
        ("Guild", utc(2026, 3, 23, 10), "U2")
    ]
    assert lead.turns == []
    received = lead.recognition
    assert (received.received, received.received_recently, received.given) == (3, 3, 0)
    assert [(giver, where) for _, giver, where in lead.recognition.latest] == [
        ("U2", "Guild"),  # newest first
        ("U5", "Guild"),
        ("U9", "Other"),
    ]
    facilitator = home.home(session, team_id=TEAM, user_id="U2", at=AT)
    assert (
        [u.starts_at for u in facilitator.turns]
        == [utc(2026, 3, 23, 10)]
        == [u.starts_at for u in facilitator.upcoming]
    )
    newcomer = home.home(session, team_id=TEAM, user_id="U4", at=AT)
    assert newcomer.memberships[0].mentor_id == "U3" and newcomer.memberships[0].roles == ["newcomer"]
    assert newcomer.recognition == home.Recognition(0, 0, 0, [])


def test_a_leads_app_home_costs_a_pinned_number_of_statements(session: Session) -> None:
    data.build(session)
    flows.publish_home(session, team_id=TEAM, user_id="U1", key="first", at=AT)  # stores the views
    session.commit()
    with Statements(session) as seen:
        flows.publish_home(session, team_id=TEAM, user_id="U1", key="again", at=AT)
    # U1 leads Guild and is a member of Other: their memberships (roles and mentor included), their part
    # in each of the two, sessions and turns, Guild's stored views, recognition, open actions; the outbox.
    assert seen.count == 8, "\n".join(seen.statements)


def test_stranger_is_told_how_to_join(session: Session) -> None:
    data.build(session)
    text = _text(blocks.home_view(home.home(session, team_id=TEAM, user_id="U404", at=AT)))
    assert "/cop join" in text


def test_home_stays_within_100_blocks_with_large_data(session: Session) -> None:
    for i in range(14):
        c = data.community(session, channel_id=f"C{i + 10}", name=f"Community {i:02d}")
        data.member(
            session, c, "U1", joined=utc(2025, 1, 1), department="Eng", roles=(Role.LEAD, Role.NEWCOMER)
        )
        for j in range(6):
            data.member(session, c, f"U{i}X{j}", joined=utc(2025, 1, 1), department=f"T{j % 2}")
            data.review(session, c, f"U{i}X{j}", AT - timedelta(days=j + 1))
        data.nominate(session, c, f"U{i}X0", ["U1"], AT - timedelta(days=2))
    session.commit()
    found = home.home(session, team_id=TEAM, user_id="U1", at=AT)
    assert len(found.memberships) == home.MAX_COMMUNITIES and len(found.dashboards) == home.MAX_DASHBOARDS
    view = blocks.home_view(found)  # check() inside raises on any broken limit
    assert len(view["blocks"]) <= 100
    assert "more than fits here" in _text(view) or len(view["blocks"]) < 100


def test_fit_cuts_and_says_so() -> None:
    many = [{"type": "divider"} for _ in range(150)]
    tail = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "end"}]}]
    kept = blocks.fit(many, tail, 100)
    assert len(kept) == 100 and kept[-1] == tail[0] and "more than fits" in _text(kept[-2])


def test_sparkline_scales_to_the_peak() -> None:
    assert blocks.sparkline([0, 1, 2, 4]) == "▁▃▅█"
    assert blocks.sparkline([0, 0]) == "▁▁"


def test_chart_is_a_valid_png_of_the_expected_size() -> None:
    import io
    import struct

    from matplotlib.image import imread

    weeks = [(utc(2026, 1, 4, 23) + timedelta(weeks=i), i % 5, i % 3, 2) for i in range(14)]
    png = chart.weekly_chart(weeks, title="Guild · Q1 2026", zone="Europe/Berlin", goals="Learn\n- Share")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (chart.WIDTH, chart.HEIGHT) == (1200, 1000)
    pixels = imread(io.BytesIO(png), format="png")  # decodes: the file is whole
    assert pixels.shape[:2] == (chart.HEIGHT, chart.WIDTH)
    colours = {tuple(round(c * 255) for c in p[:3]) for p in pixels.reshape(-1, pixels.shape[-1])[::7]}
    assert (0, 114, 178) in colours  # the bars are drawn in the contributions' colour


def test_chart_copes_with_an_empty_quarter_and_no_goals() -> None:
    png = chart.weekly_chart([], title="Quiet · Q2 2026", zone="UTC")
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_stats_message_for_a_member_and_a_lead(session: Session) -> None:
    from copbot.health import service

    c = data.build(session)
    weeks = [Week(utc(2026, 1, 5) + timedelta(weeks=i), i, i, 0) for i in range(12)]
    member_view = blocks.stats_message(c, service.metrics(session, community=c, kind="month", at=AT), weeks)
    lead_view = blocks.stats_message(
        c, service.metrics(session, community=c, kind="month", at=AT, fairness=True), weeks
    )
    assert "Fairness" not in _text(member_view) and "Fairness" in _text(lead_view)
    assert "value 4.0/5" in _text(member_view) and "speaking up needs 3 answers" in _text(member_view)
