"""The people service without Slack: mentor pairing rules, parsing, hashing, retention, forgetting."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copbot import privacy
from copbot.communities import service as communities
from copbot.communities.models import Community, Member, Role
from copbot.errors import InvalidInput, PermissionDenied
from copbot.feature import Feature, Person
from copbot.features import FEATURES
from copbot.outbox.models import OutboxMessage
from copbot.people import blocks, flows, service
from copbot.people.models import Onboarding, Question, QuestionStatus

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = b"test-key"


@pytest.fixture
def community(session: Session) -> Community:
    form = communities.CommunityForm.parse(
        {"name": "Guild", "purpose": "Learn from incidents together.", "timezone": "UTC"}
    )
    found, _ = communities.save_community(session, team_id="T1", channel_id="C1", user_id="ULEAD", form=form)
    session.commit()
    return found


def _mentor(session: Session, user_id: str, *, tz_hours: int | None = 0, team: str | None = None) -> None:
    communities.join(session, team_id="T1", channel_id="C1", user_id=user_id)
    service.opt_in(session, team_id="T1", channel_id="C1", user_id=user_id, role=Role.MENTOR, on=True)
    offset = None if tz_hours is None else tz_hours * 3600
    service.record_slack_profile(
        session, team_id="T1", user_id=user_id, is_bot=False, tz_offset=offset, profile_team=team, at=AT
    )


def _newcomer(session: Session, user_id: str, *, tz_hours: int = 0, team: str | None = None) -> None:
    service.record_slack_profile(
        session,
        team_id="T1",
        user_id=user_id,
        is_bot=False,
        tz_offset=tz_hours * 3600,
        profile_team=team,
        at=AT,
    )


def _onboard(session: Session, user_id: str, at: datetime = AT) -> Onboarding:
    onboarding = flows.welcome(session, team_id="T1", channel_id="C1", user_id=user_id, at=at)
    assert onboarding is not None
    return onboarding


def test_people_pairing_prefers_fewest_current_mentees(session: Session, community: Community) -> None:
    _mentor(session, "UMA")
    _mentor(session, "UMB")
    _newcomer(session, "UN1")
    _newcomer(session, "UN2")
    first = _onboard(session, "UN1").mentor_id
    second = _onboard(session, "UN2").mentor_id
    assert {first, second} == {"UMA", "UMB"}


def test_people_pairing_prefers_another_team(session: Session, community: Community) -> None:
    _mentor(session, "UMA", team="SRE")
    _mentor(session, "UMB", team="Web")
    _newcomer(session, "UN1", team="sre")
    assert _onboard(session, "UN1").mentor_id == "UMB"


def test_people_pairing_avoids_time_zone_gaps_when_anyone_else_fits(
    session: Session, community: Community
) -> None:
    _mentor(session, "UMA", tz_hours=9, team="Web")  # other team, fewer mentees, but 9 h away
    _mentor(session, "UMB", tz_hours=1, team="SRE")
    _newcomer(session, "UN0", team="Ops")
    _newcomer(session, "UN1", team="SRE")
    session.add(
        Onboarding(
            team_id="T1",
            community_id=community.id,
            newcomer_id="UN0",
            mentor_id="UMB",
            welcomed_at=AT - timedelta(days=1),
            checkin_due_at=AT,
        )
    )
    assert _onboard(session, "UN1").mentor_id == "UMB"


def test_people_pairing_takes_a_far_mentor_when_nobody_else_fits(
    session: Session, community: Community
) -> None:
    _mentor(session, "UMA", tz_hours=-8)
    _newcomer(session, "UN1", tz_hours=5)
    assert _onboard(session, "UN1").mentor_id == "UMA"


def test_people_pairing_then_longest_since_last_paired(session: Session, community: Community) -> None:
    _mentor(session, "UMA")
    _mentor(session, "UMB")
    for mentor, days in (("UMA", 60), ("UMB", 200)):  # both past their mentoring period: no current load
        session.add(
            Onboarding(
                team_id="T1",
                community_id=community.id,
                newcomer_id=f"UX{mentor}",
                mentor_id=mentor,
                welcomed_at=AT - timedelta(days=days),
                checkin_due_at=AT,
                ended_at=AT - timedelta(days=days - 30),
            )
        )
    _newcomer(session, "UN1")
    assert _onboard(session, "UN1").mentor_id == "UMB"


def test_people_pairing_never_repeats_a_pair(session: Session, community: Community) -> None:
    _mentor(session, "UMA")
    _newcomer(session, "UN1")
    assert _onboard(session, "UN1").mentor_id == "UMA"
    again = _onboard(session, "UN1", at=AT + timedelta(days=31))
    assert again.mentor_id is None  # the only mentor was paired with them already
    _mentor(session, "UN1")
    assert (
        service.pick_mentor(session, community=community, newcomer_id="UN1", at=AT) is None
    )  # not themselves


def test_people_no_rewelcome_within_30_days_and_bots_skipped(session: Session, community: Community) -> None:
    _newcomer(session, "UN1")
    _onboard(session, "UN1")
    assert (
        service.onboard(session, team_id="T1", channel_id="C1", user_id="UN1", at=AT + timedelta(days=29))
        is None
    )
    service.record_slack_profile(
        session, team_id="T1", user_id="UBOT9", is_bot=True, tz_offset=None, profile_team=None, at=AT
    )
    assert service.onboard(session, team_id="T1", channel_id="C1", user_id="UBOT9", at=AT) is None
    assert service.onboard(session, team_id="T1", channel_id="CNONE", user_id="UN2", at=AT) is None


def test_people_checkins_are_claimed_once(session: Session, community: Community) -> None:
    _mentor(session, "UMA")
    _newcomer(session, "UN1")
    onboarding = _onboard(session, "UN1")
    assert service.due_checkins(session, at=AT + timedelta(days=13)) == []
    due = service.due_checkins(session, at=AT + timedelta(days=14))
    assert due == [onboarding]
    assert flows.check_in(session, onboarding=onboarding, at=AT + timedelta(days=14))
    assert not flows.check_in(session, onboarding=onboarding, at=AT + timedelta(days=14))
    keys = set(session.scalars(select(OutboxMessage.key)))
    assert {f"people-checkin:{onboarding.id}:newcomer", f"people-checkin:{onboarding.id}:mentor"} <= keys


@pytest.mark.parametrize(
    ("token", "expected"),
    [("<@U123ABC|ann>", "U123ABC"), ("<@W0AB1>", "W0AB1"), ("U0AB12", "U0AB12")],
)
def test_people_parse_user(token: str, expected: str) -> None:
    assert service.parse_user(token) == expected


@pytest.mark.parametrize("token", ["@ann", "ann", "<@ann>", "<#C123|general>"])
def test_people_parse_user_refuses_anything_else(token: str) -> None:
    with pytest.raises(InvalidInput):
        service.parse_user(token)


def test_people_author_hash_is_keyed_and_scoped() -> None:
    one = service.author_hash(KEY, team_id="T1", user_id="U1")
    assert one == service.author_hash(KEY, team_id="T1", user_id="U1")
    assert one != service.author_hash(b"other", team_id="T1", user_id="U1")
    assert one != service.author_hash(KEY, team_id="T2", user_id="U1")
    assert len(one) == 64 and "U1" not in one
    derived = service.hash_key(hash_key=None, signing_secret="s3cret", bot_token=None)
    assert derived != b"s3cret" and derived == service.hash_key(
        hash_key=None, signing_secret="s3cret", bot_token="x"
    )
    assert service.hash_key(hash_key="k", signing_secret="s3cret", bot_token=None) == b"k"
    with pytest.raises(PermissionDenied):
        service.hash_key(hash_key=None, signing_secret=None, bot_token=None)


def test_people_inert_text_pings_and_links_nothing() -> None:
    shown = blocks.inert("<!here> <@U1|x> http://a.io/b www.b.org mail@c.net <https://d.io|label>")
    for live in ("<!", "<@", "http://", "a.io", "www.b", "mail@c", "c.net", "<https"):
        assert live not in shown


def test_people_months_before() -> None:
    assert service.months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert service.months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(2024, 12, 15, tzinfo=UTC)


def test_people_retention_purges_old_records_only(session: Session, community: Community) -> None:
    old, recent = AT - timedelta(days=100), AT - timedelta(days=10)
    for at in (old, recent):
        session.add(
            Question(
                team_id="T1",
                community_id=community.id,
                author_hash="h",
                text="q?",
                status=QuestionStatus.OPEN,
                created_at=at,
            )
        )
        session.add(
            Onboarding(
                team_id="T1", community_id=community.id, newcomer_id="UN1", welcomed_at=at, checkin_due_at=at
            )
        )
    session.flush()
    assert service.retention_cutoffs(session, at=AT) == {}  # no retention set: keep everything
    service.change_setting(
        session, team_id="T1", channel_id="C1", user_id="ULEAD", name="retention", value="2"
    )
    cutoffs = service.retention_cutoffs(session, at=AT)
    assert cutoffs == {"T1": service.months_before(AT, 2)}
    assert privacy.purge(session, FEATURES, cutoffs) == {"T1": 2}
    assert session.scalar(select(func.count()).select_from(Question)) == 1
    assert session.scalar(select(func.count()).select_from(Onboarding)) == 1


def test_people_forget_calls_feature_hooks_and_clears_shared_tables(
    session: Session, community: Community
) -> None:
    called: list[Person] = []

    def forget_in_fake(session: Session, person: Person) -> dict[str, int]:
        called.append(person)
        return {"fake": 1}

    features = (*FEATURES, Feature(name="fake", register=lambda *_: None, forget=forget_in_fake))
    _mentor(session, "UMA")
    _newcomer(session, "UN1")
    _onboard(session, "UN1")
    question = service.draft_question(
        session,
        team_id="T1",
        channel_id="C1",
        author=service.author_hash(KEY, team_id="T1", user_id="UMA"),
        text="What is toil, exactly?",
        at=AT,
    )
    report = privacy.forget(session, features, Person("T1", "UMA", KEY))
    assert called == [Person("T1", "UMA", KEY)] and report.counts["fake"] == 1
    assert session.scalar(select(func.count()).select_from(Member).where(Member.user_id == "UMA")) == 0
    onboarding = session.scalars(select(Onboarding)).one()
    assert onboarding.mentor_id is None and onboarding.newcomer_id == "UN1"
    session.refresh(question)
    assert question.author_hash is None
    payloads = [str(m.payload) + m.key for m in session.scalars(select(OutboxMessage))]
    assert payloads and not [p for p in payloads if "UMA" in p]
    with pytest.raises(InvalidInput):
        privacy.forget(session, features, Person("T1", "%"))


def test_welcome_names_the_next_session_in_the_readers_own_time() -> None:
    from datetime import UTC, datetime

    from copbot.communities.models import Community
    from copbot.people import blocks as people_blocks

    community = Community(
        team_id="T1",
        channel_id="C1",
        name="Guild",
        purpose="Learn together.",
        timezone="UTC",
        created_by="U1",
    )
    coming = people_blocks.NextSession(
        title="Incident <drills>", starts_at=datetime(2027, 3, 22, 8, tzinfo=UTC)
    )
    text = json.dumps(
        people_blocks.welcome_dm(community, mentor_id=None, checkin_days=14, next_session=coming)
    )
    assert "Incident &lt;drills&gt;" in text and "<!date^1805702400^" in text
    none = json.dumps(people_blocks.welcome_dm(community, mentor_id=None, checkin_days=14))
    assert "none is scheduled yet" in none
