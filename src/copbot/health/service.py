"""Community health metrics, computed in SQL over every feature's tables. Plain Python: no Slack code.

Privacy rules: a breakdown over fewer than MIN_GROUP people is never shown (None), pulse scores need
MIN_GROUP answers, and anonymous questions count as contributions but are never tied to a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Integer, Select, Subquery, and_, case, func, select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities.models import Community, Member, MemberRole, Role
from copbot.db import dialect_insert
from copbot.health import sources
from copbot.health.follow_through import FollowThrough, follow_through
from copbot.health.models import QuarterlyReview
from copbot.health.periods import Period, PeriodKind, last_weeks, period_at
from copbot.health.sources import count_distinct, member_at, member_during
from copbot.recognition.models import Nomination, Nominee
from copbot.reviews.models import Adoption, Playbook, Review
from copbot.reviews.spread import Spread, spread_of
from copbot.rituals.models import Attendance, Occurrence, PulseAnswer

MIN_GROUP = 3  # no breakdown, pulse or share over fewer people (or answers) than this
RECOGNITION_WINDOW = timedelta(weeks=8)
TOP_SHARE = 5  # "the most active 20%": the top ceil(n / 5) people
LISTED_UNRECOGNISED = 8
REVIEW_WINDOW = timedelta(days=7)  # a quarter found ended later than this (bot down, new install) is skipped
CONTRIBUTION_KINDS = ("review", "playbook", "nomination", "question", "facilitation", "attendance")


@dataclass(frozen=True)
class Pulse:
    """One pulse question: how many answered, and the mean once MIN_GROUP have."""

    answers: int
    mean: float | None


@dataclass(frozen=True)
class Fairness:
    """Recognition fairness, for leads only."""

    unrecognised: int  # active members not recognised in the last 8 weeks
    unrecognised_ids: list[str]  # the first few of them, by user id
    giving_top_share: float | None  # share of nominations given by the most active 20% of nominators
    cross_team_share: float | None  # share of recognitions between people of different teams


@dataclass(frozen=True)
class Metrics:
    """A community's health over one period (up to `stop`, the period's end or now)."""

    period: Period
    stop: datetime
    members: int
    newcomers: int
    contributors: int
    participation: float | None
    contributions: int
    by_kind: dict[str, int]
    sessions: int | None  # None: rituals' tables are not there
    attendance_rate: float | None  # attended places / (sessions x members)
    regulars: int | None  # members who attended at least half of the sessions
    teams_reached: int | None
    outside_share: float | None  # contributions from outside the leads' teams
    teams: list[tuple[str, int, int]]  # (team, contributors, contributions), only teams of >= 3
    adoptions: int
    adopters: int
    reviewed_sessions: int
    review_lag_hours: float | None
    voice_top_share: float | None
    pulse: dict[str, Pulse] = field(default_factory=dict)
    fairness: Fairness | None = None
    follow_through: FollowThrough | None = None  # review action items: closed on time, days to close
    # Practices exported to / imported from other communities.
    spread: Spread = field(default_factory=lambda: Spread(0, 0, 0))


@dataclass(frozen=True)
class Week:
    """One point of a trend."""

    start: datetime
    contributions: int
    contributors: int
    attendance: int


@dataclass(frozen=True)
class _Team:
    """One team's contributing members in a window."""

    name: str
    people: int
    contributions: int
    led: bool  # a lead of the community is in this team


@dataclass(frozen=True)
class _Tally:
    """What one pass over a window's contributions yields."""

    by_kind: dict[str, int]  # anonymous questions and non-members' contributions included
    contributors: int  # members who contributed
    attributed: int  # their contributions
    by_top: int  # contributions by the most active 20% of them
    teams: list[_Team]  # teams of contributing members (members without a team left out)


def share(part: int | float | None, whole: int | float | None) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return float(part) / float(whole)


def metrics(
    session: Session, *, community: Community, kind: PeriodKind | str, at: datetime, fairness: bool = False
) -> Metrics:
    """The community's metrics for the period of `kind` containing `at`, counted up to `at`."""
    period = period_at(kind, at, community.timezone)
    return period_metrics(
        session, community=community, period=period, stop=min(at, period.end), fairness=fairness
    )


def period_metrics(
    session: Session, *, community: Community, period: Period, stop: datetime, fairness: bool = False
) -> Metrics:
    """The community's metrics over [period.start, stop)."""
    scope = _Scope(session, community, period.start, stop)
    members, newcomers = scope.membership()
    contributors, _, voice = scope.voice()
    attendance = scope.attendance(members)
    teams_reached, outside, teams = scope.teams()
    adoptions, adopters = scope.adoption()
    reviewed, lag = scope.review_lag()
    return Metrics(
        period=period,
        stop=stop,
        members=members,
        newcomers=newcomers,
        contributors=contributors,
        participation=share(contributors, members),
        contributions=sum(scope.tally().by_kind.values()),
        by_kind=scope.tally().by_kind,
        sessions=attendance[0],
        attendance_rate=attendance[1],
        regulars=attendance[2],
        teams_reached=teams_reached,
        outside_share=outside,
        teams=teams,
        adoptions=adoptions,
        adopters=adopters,
        reviewed_sessions=reviewed,
        review_lag_hours=lag,
        voice_top_share=voice,
        pulse=scope.pulse(),
        fairness=scope.fairness() if fairness else None,
        follow_through=follow_through(session, community=community, start=period.start, stop=stop),
        spread=spread_of(
            session, team_id=community.team_id, community_id=community.id, start=period.start, stop=stop
        ),
    )


class _Scope:
    """The queries of one community over one window; each method is one or two SQL statements."""

    def __init__(self, session: Session, community: Community, start: datetime, stop: datetime):
        self.session, self.community, self.start, self.stop = session, community, start, stop
        self._tally: _Tally | None = None

    def _contributions(self) -> Subquery:
        return sources.contributions(
            self.session,
            team_id=self.community.team_id,
            community_id=self.community.id,
            start=self.start,
            stop=self.stop,
        )

    def membership(self) -> tuple[int, int]:
        """Members at the end of the window, and how many joined during it."""
        at_stop = and_(*member_at(self.community.id, self.stop))
        row = self.session.execute(
            select(
                func.count().filter(at_stop),
                func.count().filter(Member.joined_at >= self.start),
            ).where(
                *member_during(self.community.id, self.start, self.stop),
                Member.team_id == self.community.team_id,
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0)

    def tally(self) -> _Tally:
        """Contributions by kind, members' per-team totals and voice balance: ONE pass over the window.

        Contributions are counted per person first (a few thousand rows), then joined to members: the window's
        rows are read once, and no metric re-reads them (see BENCHMARKS.md, health).
        """
        if self._tally is None:
            self._tally = self._count()
        return self._tally

    def _count(self) -> _Tally:
        contribution = self._contributions()
        per_user = (
            select(
                contribution.c.user_id,
                func.count().label("n"),
                *(func.count().filter(contribution.c.kind == k).label(k) for k in CONTRIBUTION_KINDS),
            )
            .group_by(contribution.c.user_id)
            .subquery("per_user")
        )
        # Anonymous questions (no user_id) and people who were not members in the window count by kind only.
        member = Member.id.is_not(None)
        joined = per_user.outerjoin(
            Member,
            and_(
                Member.user_id == per_user.c.user_id,
                *member_during(self.community.id, self.start, self.stop),
            ),
        )
        ranked = (
            select(
                per_user,
                Member.department,
                member.label("member"),
                func.row_number()
                .over(partition_by=member, order_by=(per_user.c.n.desc(), per_user.c.user_id))
                .label("rank"),
                func.count().over(partition_by=member).label("people"),
            )
            .select_from(joined)
            .subquery("ranked")
        )
        top = (ranked.c.people + (TOP_SHARE - 1)) / TOP_SHARE
        # One row per (member or not, team): a few dozen at most.
        rows = self.session.execute(
            select(
                ranked.c.member,
                ranked.c.department,
                ranked.c.department.in_(self._lead_teams()),
                func.count(),
                func.sum(ranked.c.n),
                func.sum(case((ranked.c.rank <= top, ranked.c.n), else_=0)),
                *(func.sum(ranked.c[kind]) for kind in CONTRIBUTION_KINDS),
            ).group_by(ranked.c.member, ranked.c.department)
        ).all()
        by_kind = {kind: sum(int(row[6 + i]) for row in rows) for i, kind in enumerate(CONTRIBUTION_KINDS)}
        members = [row for row in rows if row[0]]
        teams = [
            _Team(str(name), int(people), int(n), bool(led))
            for _, name, led, people, n, _, *_ in members
            if name is not None
        ]
        return _Tally(
            by_kind=by_kind,
            contributors=sum(int(row[3]) for row in members),
            attributed=sum(int(row[4]) for row in members),
            by_top=sum(int(row[5]) for row in members),
            teams=teams,
        )

    def _lead_teams(self) -> Select[str | None]:
        return (
            select(Member.department)
            .join(MemberRole, MemberRole.member_id == Member.id)
            .where(Member.community_id == self.community.id, MemberRole.role == Role.LEAD.value)
            .where(Member.left_at.is_(None), Member.department.is_not(None))
        )

    def voice(self) -> tuple[int, int, float | None]:
        """Contributors, their contributions, and the share of them by the most active 20%."""
        tally = self.tally()
        people, total = tally.contributors, tally.attributed
        return people, total, share(tally.by_top, total) if people >= MIN_GROUP else None

    def teams(self) -> tuple[int | None, float | None, list[tuple[str, int, int]]]:
        """Distinct teams contributing, the share from outside the leads' teams, and teams of >= 3 people."""
        tally = self.tally()
        if tally.contributors < MIN_GROUP:
            return None, None, []
        outside = sum(team.contributions for team in tally.teams if not team.led)
        listed = sorted(
            (
                (team.name, team.people, team.contributions)
                for team in tally.teams
                if team.people >= MIN_GROUP
            ),
            key=lambda team: (-team[2], team[0]),
        )
        return len(tally.teams), share(outside, tally.attributed), listed[:10]

    def attendance(self, members: int) -> tuple[int | None, float | None, int | None]:
        """Sessions held, the share of member places taken, and members at half the sessions or more."""
        occurrence, attendance = Occurrence, Attendance
        conditions = sources.held(
            team_id=self.community.team_id,
            community_id=self.community.id,
            start=self.start,
            stop=self.stop,
            sessions_only=True,
        )
        sessions = int(
            self.session.scalar(select(func.count()).select_from(occurrence).where(*conditions)) or 0
        )
        if not sessions:
            return 0, None, 0
        per_member = (
            select(attendance.user_id, func.count().label("n"))
            .join(occurrence, occurrence.id == attendance.occurrence_id)
            .where(*conditions, attendance.attended.is_(True))
            .group_by(attendance.user_id)
            .subquery()
        )
        row = self.session.execute(
            select(
                func.coalesce(func.sum(per_member.c.n), 0),
                func.count().filter(per_member.c.n * 2 >= sessions),
            )
        ).one()
        return sessions, share(int(row[0]), sessions * members), int(row[1] or 0)

    def adoption(self) -> tuple[int, int]:
        """Applications of the community's reviews and playbooks in the window, and by how many people."""
        reviews = select(Review.id).where(Review.community_id == self.community.id)
        playbooks = select(Playbook.id).where(Playbook.community_id == self.community.id)
        row = self.session.execute(
            select(func.count(), count_distinct(Adoption.user_id)).where(
                Adoption.team_id == self.community.team_id,
                Adoption.created_at >= self.start,
                Adoption.created_at < self.stop,
                ((Adoption.item_kind == "review") & Adoption.item_id.in_(reviews))
                | ((Adoption.item_kind == "playbook") & Adoption.item_id.in_(playbooks)),
            )
        ).one()
        return int(row[0]), int(row[1])

    def review_lag(self) -> tuple[int, float | None]:
        """Reviews of sessions written in the window, and the mean hours from session start to review."""
        occurrence = Occurrence
        row = self.session.execute(
            select(
                func.count(),
                func.avg(sources.hours_between(self.session, Review.created_at, occurrence.starts_at)),
            )
            .join(occurrence, occurrence.id == Review.occurrence_id)
            .where(Review.team_id == self.community.team_id, Review.community_id == self.community.id)
            .where(Review.created_at >= self.start, Review.created_at < self.stop)
        ).one()
        return int(row[0]), float(row[1]) if row[1] is not None else None

    def pulse(self) -> dict[str, Pulse]:
        """Mid-point pulse answers per question; the mean only with MIN_GROUP answers or more."""
        answer, occurrence = PulseAnswer, Occurrence
        rows = self.session.execute(
            select(answer.question, func.count(), func.avg(answer.score))
            .join(occurrence, occurrence.id == answer.occurrence_id)
            .where(occurrence.team_id == self.community.team_id, occurrence.community_id == self.community.id)
            .where(occurrence.starts_at >= self.start, occurrence.starts_at < self.stop)
            .group_by(answer.question)
        )
        found = {q: Pulse(int(n), float(mean) if n >= MIN_GROUP else None) for q, n, mean in rows}
        return {q: found.get(q, Pulse(0, None)) for q in ("value", "safety")}

    def fairness(self) -> Fairness:
        """Who has not been recognised lately, how concentrated giving is, and recognition across teams."""
        recognised = (
            select(Nominee.user_id)
            .join(Nomination, Nomination.id == Nominee.nomination_id)
            .where(Nomination.community_id == self.community.id, Nomination.team_id == self.community.team_id)
            .where(Nomination.created_at >= self.stop - RECOGNITION_WINDOW, Nomination.created_at < self.stop)
        )
        unrecognised = select(Member.user_id).where(
            *member_at(self.community.id, self.stop), Member.user_id.not_in(recognised)
        )
        rows = self.session.execute(
            unrecognised.add_columns(func.count().over()).order_by(Member.user_id).limit(LISTED_UNRECOGNISED)
        ).all()
        count = int(rows[0][1]) if rows else 0
        listed = [user_id for user_id, _ in rows]
        return Fairness(count, listed, self._giving_top_share(), self._cross_team_share())

    def _nominations(self) -> list[ColumnElement[bool]]:
        return [
            Nomination.team_id == self.community.team_id,
            Nomination.community_id == self.community.id,
            Nomination.created_at >= self.start,
            Nomination.created_at < self.stop,
        ]

    def _giving_top_share(self) -> float | None:
        per_giver = (
            select(func.count().label("n"))
            .where(*self._nominations(), Nomination.nominator_id.is_not(None))
            .group_by(Nomination.nominator_id)
            .subquery()
        )
        ranked = select(
            per_giver.c.n,
            func.row_number().over(order_by=per_giver.c.n.desc()).label("rank"),
            func.count().over().label("people"),
        ).subquery()
        top = (ranked.c.people + (TOP_SHARE - 1)) / TOP_SHARE
        row = self.session.execute(
            select(
                func.count(),
                func.sum(ranked.c.n),
                func.sum(case((ranked.c.rank <= top, ranked.c.n), else_=0)),
            )
        ).one()
        return share(row[2], row[1]) if int(row[0]) >= MIN_GROUP else None

    def _cross_team_share(self) -> float | None:
        giver = Member.__table__.alias("giver")
        receiver = Member.__table__.alias("receiver")
        known = (
            select(
                Nomination.nominator_id,
                Nominee.user_id,
                case((giver.c.department != receiver.c.department, 1), else_=0).label("across"),
            )
            .join(Nominee, Nominee.nomination_id == Nomination.id)
            .join(
                giver,
                and_(
                    giver.c.community_id == Nomination.community_id,
                    giver.c.user_id == Nomination.nominator_id,
                ),
            )
            .join(
                receiver,
                and_(
                    receiver.c.community_id == Nomination.community_id, receiver.c.user_id == Nominee.user_id
                ),
            )
            .where(*self._nominations(), giver.c.department.is_not(None), receiver.c.department.is_not(None))
            .subquery()
        )
        row = self.session.execute(
            select(
                func.count(),
                func.sum(known.c.across.cast(Integer)),
                count_distinct(known.c.nominator_id),
                count_distinct(known.c.user_id),
            )
        ).one()
        enough = int(row[2]) >= MIN_GROUP and int(row[3]) >= MIN_GROUP
        return share(row[1], row[0]) if enough else None


def trends(session: Session, *, community: Community, at: datetime, weeks: int = 12) -> list[Week]:
    """Contributions, contributors and attendances per week for the `weeks` weeks up to `at`, oldest first."""
    spans = last_weeks(at, community.timezone, weeks)
    start, stop = spans[0].start, min(at, spans[-1].end)
    contribution = sources.contributions(
        session, team_id=community.team_id, community_id=community.id, start=start, stop=stop
    )
    bucket = case(*((contribution.c.at < w.end, i) for i, w in enumerate(spans)), else_=len(spans) - 1)
    rows = session.execute(
        select(
            bucket.label("week"),
            func.count(),
            count_distinct(contribution.c.user_id),
            func.count().filter(contribution.c.kind == "attendance"),
        ).group_by(bucket)
    )
    found = {int(week): (int(n), int(people), int(attended)) for week, n, people, attended in rows}
    return [Week(w.start, *found.get(i, (0, 0, 0))) for i, w in enumerate(spans)]


def ended_quarter(community: Community, at: datetime) -> Period | None:
    """The quarter whose review is due at `at`: the one that ended in the last REVIEW_WINDOW."""
    ended = period_at(PeriodKind.QUARTER, at, community.timezone).previous()
    if not ended.end <= at < ended.end + REVIEW_WINDOW or community.created_at >= ended.end:
        return None
    return ended


def quarter_reviewed(session: Session, *, community: Community, quarter: Period) -> bool:
    """Whether the community's review of `quarter` has been claimed already."""
    claimed = select(QuarterlyReview.id).where(
        QuarterlyReview.team_id == community.team_id,
        QuarterlyReview.community_id == community.id,
        QuarterlyReview.quarter == quarter.quarter_key,
    )
    return session.scalar(claimed) is not None


def quarter_weeks(session: Session, *, community: Community, quarter: Period) -> list[Week]:
    """The weeks that overlap the quarter, with their trend figures."""
    count = (quarter.end - quarter.start).days // 7 + 2
    weeks = trends(session, community=community, at=quarter.end - timedelta(microseconds=1), weeks=count)
    return [w for w in weeks if w.start + timedelta(days=7) > quarter.start]


def claim_quarter(
    session: Session, *, community: Community, quarter: Period, summary: str, png: bytes
) -> int | None:
    """Store the quarter's review once (unique per community and quarter); None when another run has it."""
    insert = dialect_insert(session)
    statement = (
        insert(QuarterlyReview)
        .values(
            team_id=community.team_id,
            community_id=community.id,
            quarter=quarter.quarter_key,
            summary=summary,
            chart_png=png,
            created_at=now(),
        )
        .on_conflict_do_nothing(index_elements=["team_id", "community_id", "quarter"])
        .returning(QuarterlyReview.id)
    )
    return session.execute(statement).scalar()
