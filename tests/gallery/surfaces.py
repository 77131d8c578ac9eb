"""Every message and view copbot sends, built from fixed data: what the gallery renders.

In-memory rows for the pure builders; the health fixtures' database rows for what is computed
(App Home, `/cop stats`, the digest). Times are fixed, so the transcripts only change with the code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copbot.blockkit import text_message
from copbot.communities import blocks as community_blocks
from copbot.communities.models import Community, Role, Workspace
from copbot.health import blocks as health_blocks
from copbot.health import home, service
from copbot.people import blocks as people_blocks
from copbot.people.models import Question
from copbot.recognition import blocks as recognition_blocks
from copbot.recognition import digest
from copbot.recognition.models import Nomination, NominationReaction, Nominee, RecognitionSettings
from copbot.reviews import blocks as review_blocks
from copbot.reviews import checkin_blocks, spread_blocks
from copbot.reviews.checkins import Retention
from copbot.reviews.models import Adoption, Lesson, Playbook, Review
from copbot.reviews.search import START, STOP, Found, Page, Scope
from copbot.rituals import blocks as ritual_blocks
from copbot.rituals.models import Exclusion, Occurrence, RitualSchedule
from copbot.rituals.service import Planned, Tally
from copbot.slack.commands import TOPICS, CopRouter, Topic
from copbot.slack.errors import error_view
from copbot.slack.payloads import MalformedPayload
from tests.unit.health import health_data

Payload = dict[str, Any]
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
POST_URL = "https://acme.slack.com/archives/C1/p1773900000000300"


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


COMMUNITY = Community(
    id=1,
    team_id="T1",
    channel_id="C1",
    name="Incident Guild",
    purpose="Learn from every incident we run, and share it beyond our teams.",
    learning_goals="Run blameless reviews\nShare one lesson per incident with another team",
    boundaries="Incidents and drills; not performance reviews.",
    norms="Assume good intent. Write it down.",
    timezone="Europe/Berlin",
    created_by="U1",
)


def _review() -> Review:
    lessons = [
        Lesson(id=11, position=0, text="Check replication lag before any failover", owner_id="U4",
               status="verified", verified_at=NOW, verify_due_at=NOW + timedelta(days=90)),
        Lesson(id=12, position=1, text="Automate the runbook: nobody types commands at 3 a.m.", owner_id="U4",
               status="verified", verified_at=NOW, verify_due_at=NOW + timedelta(days=90)),
    ]  # fmt: skip
    return Review(
        id=7,
        team_id="T1",
        community_id=1,
        author_id="U2",
        template="postmortem",
        title="Database failover drill",
        context="We practised a failover of the primary database during office hours.",
        expected="A switch in under a minute.",
        happened="Replica lag held the switch for ten minutes; the on-call paused the drill.",
        went_well="Everyone knew the runbook; the status page was updated at once.",
        to_change="Check replication lag before starting.",
        decisions="Write the failover script\nAlert on replica lag above 30 s",
        action_owners=["U3", "U5"],
        coauthors=["U3"],
        tags=["database", "failover"],
        links=["https://wiki.example.com/runbooks/failover", "https://acme.slack.com/archives/C1/p1773900000000100"],
        related_ids=[],
        revision=1,
        lessons=lessons,
    )  # fmt: skip


def _playbook() -> Playbook:
    return Playbook(
        id=4,
        team_id="T1",
        community_id=1,
        author_id="U3",
        title="Database failover",
        when_to_use="Before any planned failover of a primary database.",
        steps="Check replication lag\nAnnounce in #incidents\nRun the failover script\nVerify writes",
        source_review_id=7,
    )


def _nomination() -> Nomination:
    return Nomination(
        id=9,
        team_id="T1",
        community_id=1,
        nominator_id="U2",
        nominees=[Nominee(team_id="T1", user_id="U3")],
        value="Mentoring",
        action="Paired with me for an hour on the flaky deploy pipeline",
        impact="We shipped on Friday instead of next week",
        public=True,
        permalink="https://acme.slack.com/archives/C1/p1773900000000200",
    )


def _sessions() -> RitualSchedule:
    return RitualSchedule(
        id=3, team_id="T1", community_id=1, kind="sessions", status="active", title="Incident drills",
        frequency="weekly", first_date=date(2026, 3, 24), local_time="15:00", alt_local_time=None,
        duration_minutes=60, remind_minutes=60, rotation_days=3, created_by="U1", plan="",
    )  # fmt: skip


def _occurrence() -> Occurrence:
    starts = datetime(2026, 3, 24, 14, 0, tzinfo=UTC)
    return Occurrence(
        id=21, team_id="T1", community_id=1, schedule_id=3, kind="session", starts_at=starts,
        ends_at=starts + timedelta(hours=1), post_at=starts - timedelta(hours=1), stage="posted",
        facilitator_id="U3", revision=0,
    )  # fmt: skip


def _help(router: CopRouter, *, lead: bool) -> list[community_blocks.HelpTopic]:
    return [
        community_blocks.HelpTopic(t.value, *TOPICS[t], router.entries(t))
        for t in Topic
        if lead or t != Topic.LEAD
    ]


def pure_surfaces(router: CopRouter) -> dict[str, Callable[[], Payload]]:
    """Surfaces built from in-memory data alone."""
    review, playbook, nomination = _review(), _playbook(), _nomination()
    schedule, occurrence = _sessions(), _occurrence()
    settings = RecognitionSettings(
        community_id=1, team_id="T1", values=["Mentoring", "Curiosity", "Sharing knowledge"], story_min=20,
        weekly_limit=5, hold_for_digest=False, digest_enabled=True, digest_weekday=0, digest_time="09:00",
    )  # fmt: skip
    found = [
        Found("review", review.title, f"Replica lag held the {START}failover{STOP} for ten minutes…",
              POST_URL, COMMUNITY, review.lessons, 7, frozenset(["U2", "U3"])),
        Found("playbook", playbook.title, f"Before any planned {START}failover{STOP} of a primary.",
              None, COMMUNITY, (), 4, frozenset()),
    ]  # fmt: skip
    coming = [
        Planned("session", _at(24, 14), None, _at(24, 13)),
        Planned("session", _at(31, 13), None, _at(31, 12)),
    ]  # fmt: skip
    question = Question(
        id=5, team_id="T1", community_id=1, text="How do other teams size their rotas?", status="open"
    )
    draft = _sessions()
    draft.id, draft.status, draft.title = 8, "draft", "Lightning talks"
    paused = _sessions()
    paused.status, paused.paused_reason = "paused", "channel archived"
    lesson = review.lessons[0]
    lesson.review = review
    return {
        "review-post": lambda: review_blocks.review_message(review, community=COMMUNITY, applied=2),
        "review-modal": lambda: review_blocks.review_modal(
            review_blocks.ReviewDraft(), metadata={"community_id": 1}, community=COMMUNITY
        ),
        "review-saved": lambda: review_blocks.saved_view(review, COMMUNITY, created=True),
        "playbook-modal": lambda: review_blocks.playbook_modal(
            metadata={"community_id": 1}, community=COMMUNITY
        ),
        "playbook-post": lambda: review_blocks.playbook_message(
            playbook, source=review, source_url=POST_URL, applied=1
        ),
        "search-results": lambda: review_blocks.search_results(
            Page(query="failover", page=2, hits=[], has_more=True, scope=Scope(home=1, everywhere=False)),
            found,
            at=NOW,
            viewer="U2",
            home=COMMUNITY,
        ),
        **spread_surfaces(review, playbook, found),
        "lesson-due-dm": lambda: review_blocks.lesson_due_message(lesson, community=COMMUNITY),
        "lesson-modal": lambda: review_blocks.lesson_modal(lesson),
        "nomination-modal": lambda: recognition_blocks.nomination_modal(
            recognition_blocks.ModalContext(COMMUNITY, settings, left=4, nominees=["U3"])
        ),
        "nomination-dm": lambda: recognition_blocks.nominee_dm(nomination, COMMUNITY),
        "nomination-post": lambda: recognition_blocks.channel_post(nomination),
        "nomination-sent": lambda: recognition_blocks.thanks_view(nomination, left=4, held=False),
        "session-post": lambda: ritual_blocks.session_post(
            COMMUNITY, schedule, occurrence, Tally(going=4, cant=1, async_=2), started=False
        ),
        "rotation-dm": lambda: ritual_blocks.ask_dm(COMMUNITY, schedule, occurrence, 31, answer=None),
        "welcome-dm": lambda: people_blocks.welcome_dm(
            COMMUNITY,
            mentor_id="U3",
            checkin_days=14,
            next_session=people_blocks.NextSession("Incident drills", occurrence.starts_at),
        ),
        "question-post": lambda: people_blocks.question_post(question),
        "ask-modal": lambda: people_blocks.ask_modal(channel_id="C1"),
        "forget-me": lambda: people_blocks.forget_confirmation(),
        "setup-modal": lambda: community_blocks.setup_modal(
            channel_id="C1", community=COMMUNITY, default_timezone="UTC"
        ),
        "sessions-modal": lambda: ritual_blocks.sessions_modal(COMMUNITY, None),
        "cycle-modal": lambda: ritual_blocks.cycle_modal(COMMUNITY, None),
        "schedule-saved-live": lambda: ritual_blocks.saved_view(schedule, COMMUNITY, coming),
        "schedule-saved-draft": lambda: ritual_blocks.saved_view(draft, COMMUNITY, coming, previewed=True),
        "schedule-saved-paused": lambda: ritual_blocks.saved_view(paused, COMMUNITY, coming),
        "schedule-list-member": lambda: ritual_blocks.schedule_list(
            COMMUNITY, [schedule, draft], [_holiday()], [occurrence], can_edit=False
        ),
        "schedule-list-lead": lambda: ritual_blocks.schedule_list(
            COMMUNITY, [schedule, draft], [_holiday()], [occurrence], can_edit=True
        ),
        "rotation": lambda: ritual_blocks.rotation_message(COMMUNITY, ["U3", "U2", "U5"], {}),
        "help-member": lambda: community_blocks.help_overview(_help(router, lead=False)),
        "help-lead": lambda: community_blocks.help_overview(_help(router, lead=True)),
        "help-topic-meet": lambda: community_blocks.help_topic(_help(router, lead=False)[2]),
        # A payload Slack sent without what the listener needs: in a modal, and after a click.
        "unreadable-submission": lambda: error_view(str(MalformedPayload("ViewSubmission"))),
        "unreadable-click": lambda: text_message(str(MalformedPayload("BlockActions"))),
    }


def _holiday() -> Exclusion:
    return Exclusion(
        id=2, team_id="T1", community_id=1, first_day=date(2026, 4, 6), last_day=date(2026, 4, 10),
        reason="Easter",
    )  # fmt: skip


SRE = Community(id=2, team_id="T1", channel_id="C2", name="SRE Guild", purpose="Keep it up.", timezone="UTC",
                created_by="U9")  # fmt: skip


def spread_surfaces(
    review: Review, playbook: Playbook, found: list[Found]
) -> dict[str, Callable[[], Payload]]:
    """Practices that spread: results from every community, similar items, where it was applied."""
    elsewhere = [
        Found("review", "Replica lag paused our failover", "", POST_URL.replace("C1", "C2"), SRE, (), 31),
        Found("playbook", "Failover checklist", "", None, SRE, (), 9),
    ]
    return {
        "search-results-all": lambda: review_blocks.search_results(
            Page(query="failover", page=1, hits=[], has_more=False, scope=Scope(home=1, everywhere=True)),
            [*found, *elsewhere],
            at=NOW,
            viewer="U2",
            home=COMMUNITY,
        ),
        "similar-items-dm": lambda: spread_blocks.similar_message(review, elsewhere),
        "applied-where-modal": lambda: spread_blocks.applied_where_modal(
            title=playbook.title, kind="playbook", item_id=4, choices=[COMMUNITY, SRE]
        ),
        "applied-recorded": lambda: spread_blocks.applied_recorded_view(title=playbook.title, community=SRE),
        "applied-elsewhere-dm": lambda: spread_blocks.applied_elsewhere_message(
            review, adopter="U9", community=SRE, communities=1, url=POST_URL
        ),
        "checkin-dm": lambda: checkin_blocks.checkin_message(
            checkin_id=3, title=playbook.title, stage=30, source=COMMUNITY
        ),
        "checkin-answered": lambda: checkin_blocks.checkin_answered(
            title=playbook.title, stage=90, source=COMMUNITY, answer="stopped"
        ),
    }


def stored_surfaces(session: Session) -> dict[str, Callable[[], Payload]]:
    """Surfaces computed from stored rows: the health fixtures' community as of 20 March 2026."""
    guild = health_data.build(session)
    at = health_data.AT

    def app_home(user_id: str) -> Payload:
        return health_blocks.home_view(home.home(session, team_id=health_data.TEAM, user_id=user_id, at=at))

    def stats() -> Payload:
        metrics = service.metrics(session, community=guild, kind="month", at=at, fairness=True)
        return health_blocks.stats_message(guild, metrics, service.trends(session, community=guild, at=at))

    def weekly_digest() -> Payload:
        end = datetime(2026, 3, 11, tzinfo=UTC)
        week = (Nomination.community_id == guild.id, Nomination.created_at < end)
        first = session.scalars(
            select(Nomination).where(*week).order_by(Nomination.created_at.desc())
        ).first()
        assert first is not None
        for user_id in ("U7", "U8"):  # two people co-signed its post with an emoji
            reaction = NominationReaction(team_id="T1", nomination_id=first.id, user_id=user_id, emoji="clap")
            session.add(reaction)
        session.flush()
        return digest.digest_message(digest.gather(session, community=guild, end=end))

    def stats_for_a_lead() -> Payload:
        metrics = service.metrics(session, community=guild, kind="month", at=at, fairness=True)
        practices = [
            Retention("review", 7, "Database failover drill", 90, 4, 0, True),
            Retention("playbook", 4, "Database failover", 30, 5, 4, False),
        ]
        return health_blocks.stats_message(guild, metrics, None, practices=practices)

    assert Role.LEAD  # U1 leads the fixtures' community; U4 is its newcomer; U2 a member
    return {
        "app-home-lead": lambda: app_home("U1"),
        "app-home-member": lambda: app_home("U2"),
        "app-home-newcomer": lambda: app_home("U4"),
        "stats": stats,
        "stats-lead-retention": stats_for_a_lead,
        "digest": weekly_digest,
        "digest-travelled": lambda: _digest_travelled(session),
    }


def _digest_travelled(session: Session) -> Payload:
    """The digest of a community whose practice three other communities applied (one this week)."""
    guilds = [
        Community(team_id="T7", channel_id=f"C7{n}", name=f"Guild {n}", purpose="Learn.", timezone="UTC",
                  created_by="U1")
        for n in range(4)
    ]  # fmt: skip
    session.add(Workspace(team_id="T7"))
    session.flush()
    session.add_all(guilds)
    session.flush()
    drill = Review(team_id="T7", community_id=guilds[0].id, author_id="U1", template="postmortem",
                   title="Database failover drill", context="c", happened="h",
                   created_at=_at(1, 9))  # fmt: skip
    session.add(drill)
    session.flush()
    for n, day in ((1, 2), (2, 5), (3, 10)):
        session.add(Adoption(team_id="T7", item_kind="review", item_id=drill.id, user_id=f"U{n + 5}",
                             source_community_id=guilds[0].id, adopter_community_id=guilds[n].id,
                             created_at=_at(day, 12)))  # fmt: skip
    session.flush()
    data = digest.gather(session, community=guilds[0], end=datetime(2026, 3, 11, tzinfo=UTC))
    return digest.digest_message(data)
