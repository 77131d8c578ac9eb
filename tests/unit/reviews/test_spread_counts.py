"""Practices that spread, on the real database: exported / imported counts (ever and per window), the
health metrics and quarterly review that show them, the digest's celebration and milestones, export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.feature import Person
from copbot.health import blocks as health_blocks
from copbot.health import service as health
from copbot.recognition import digest
from copbot.reviews import checkins, jobs, privacy, service, similar, spread
from copbot.reviews.models import Adoption, AdoptionCheckin, Review

END = datetime(2026, 3, 16, 9, tzinfo=UTC)  # a digest's instant: the week is [END - 7 days, END)


def _community(session: Session, channel_id: str, lead: str) -> Community:
    form = communities.CommunityForm.parse(
        {"name": f"Guild {channel_id}", "purpose": "Learning together, weekly.", "timezone": "UTC"}
    )
    community, _ = communities.save_community(
        session, team_id="T1", channel_id=channel_id, user_id=lead, form=form
    )
    return community


def _review(session: Session, community: Community, title: str, **fields: str) -> Review:
    form = service.ReviewForm.parse(
        {"template": "after_action", "title": title, "context": "Context.", "happened": "It happened.",
         "lessons": "A lesson", **fields}
    )  # fmt: skip
    return service.create_review(session, team_id="T1", user_id="U1", community=community, form=form)


def _adopt(session: Session, review: Review, user_id: str, adopter: Community, at: datetime) -> None:
    session.add(
        Adoption(
            team_id="T1", item_kind="review", item_id=review.id, user_id=user_id,
            source_community_id=review.community_id, adopter_community_id=adopter.id, created_at=at,
        )
    )  # fmt: skip
    session.flush()


def test_exports_and_imports_count_distinct_practices_across_communities(session: Session) -> None:
    guild, sre, web = (_community(session, c, u) for c, u in (("C1", "U1"), ("C2", "U2"), ("C3", "U3")))
    first, second = _review(session, guild, "Failover drill"), _review(session, guild, "Cache stampede")
    _adopt(session, first, "U2", sre, END - timedelta(days=40))
    _adopt(session, first, "U5", sre, END - timedelta(days=2))  # the same practice again: still one
    _adopt(session, second, "U3", web, END - timedelta(days=2))
    _adopt(session, second, "U1", guild, END - timedelta(days=2))  # local: neither
    assert spread.spread_of(session, team_id="T1", community_id=guild.id) == spread.Spread(2, 0, 2)
    assert spread.spread_of(session, team_id="T1", community_id=sre.id) == spread.Spread(0, 1, 0)
    week = spread.spread_of(
        session, team_id="T1", community_id=guild.id, start=END - timedelta(days=7), stop=END
    )
    assert week == spread.Spread(2, 0, 2)
    month_before = spread.spread_of(
        session,
        team_id="T1",
        community_id=guild.id,
        start=END - timedelta(days=60),
        stop=END - timedelta(days=7),
    )
    assert month_before == spread.Spread(1, 0, 1)

    metrics = health.metrics(session, community=guild, kind="month", at=END)
    assert metrics.spread.exported == 2
    fields = dict(health_blocks.metric_fields(metrics))
    assert "2 practices exported, 0 imported" in fields["Adoption"]
    before = health.metrics(session, community=guild, kind="month", at=END - timedelta(days=40))
    review = health_blocks.quarterly_review(guild, metrics, before)
    assert "Practices exported / imported" in str(review)

    records = jobs.export_records(session, [sre])
    assert [(r["user_id"], r["channel_id"], r["adopter_channel_id"]) for r in records["adoptions"]] == [
        ("U2", "C1", "C2"),
        ("U5", "C1", "C2"),
    ]
    assert all(r["across_communities"] for r in records["adoptions"])


def test_the_digest_celebrates_practices_applied_elsewhere_and_their_milestones(session: Session) -> None:
    guild = _community(session, "C1", "U1")
    others = [_community(session, f"C{n}", f"U{n}") for n in range(2, 6)]
    drill = _review(session, guild, "Failover drill")
    _adopt(session, drill, "U2", others[0], END - timedelta(days=30))  # the first, weeks ago
    _adopt(session, drill, "U3", others[1], END - timedelta(days=3))
    _adopt(session, drill, "U4", others[2], END - timedelta(days=2))  # the third this week: a milestone
    _adopt(session, drill, "U1", guild, END - timedelta(days=2))
    data = digest.gather(session, community=guild, end=END)
    (travelled,) = [s for s in data.sections if s.title == "Practices that travelled"]
    assert travelled.lines == [":airplane: *Failover drill* was applied in <#C3>, <#C4>"]
    assert ":earth_africa: *Failover drill* has been applied by 3 other communities" in data.milestones
    assert not any("another community" in m for m in data.milestones)  # that one was weeks ago
    text = str(digest.digest_message(data))
    assert "Practices that travelled" in text and "3 other communities" in text

    quiet = digest.gather(session, community=others[0], end=END)
    assert not [s for s in quiet.sections if s.title == "Practices that travelled"]


def test_the_review_s_words_and_rare_terms_leave_out_noise(session: Session) -> None:
    guild, sre = _community(session, "C1", "U1"), _community(session, "C2", "U2")
    _review(session, sre, "Zookeeper quorum lost", context="Ensemble restart went wrong.")
    _review(session, sre, "Unrelated certificate expiry", context="Renewal failed.")
    new = _review(session, guild, "Our zookeeper quorum flapped", context="The ensemble lost quorum.")
    session.flush()
    assert similar.words_of("The ZooKeeper and the 42 nodes, it's x") == ["zookeeper", "nodes"]
    hits = similar.similar_items(session, team_id="T1", community_id=guild.id, body=similar.review_text(new))
    assert [h.community_id for h in hits] == [sre.id]
    assert similar.similar_items(session, team_id="T1", community_id=sre.id, body="") == []


def test_a_playbook_is_flagged_only_when_three_answers_at_its_latest_stage_say_nobody_uses_it(
    session: Session,
) -> None:
    guild, sre = _community(session, "C1", "U1"), _community(session, "C2", "U2")
    form = service.PlaybookForm(
        playbook_title="Failover", playbook_when="Before a failover", playbook_steps="1. Lag"
    )
    playbook = service.create_playbook(session, team_id="T1", user_id="U1", community=guild, form=form)
    marks = []
    for user_id in ("U5", "U6", "U7", "U8"):
        communities.join(session, team_id="T1", channel_id="C2", user_id=user_id)
        spread.adopt(session, team_id="T1", user_id=user_id, item=playbook, adopter_community_id=sre.id)
        marks.append(session.scalars(select(Adoption).where(Adoption.user_id == user_id)).one())
    taken = [checkins.claim(session, adoption=a, stage=30) for a in marks]
    assert checkins.claim(session, adoption=marks[0], stage=30) is None  # once per stage
    ids = [c.id for c in taken if c is not None]

    def reply(n: int, value: str, stage_ids: list[int] = ids) -> checkins.Answered:
        return checkins.answer(
            session, team_id="T1", checkin_id=stage_ids[n], user_id=f"U{n + 5}", value=value, at=END
        )

    assert not reply(0, "stopped").flagged and not reply(1, "no").flagged
    assert not reply(2, "yes").flagged  # one of three still uses it
    (kept,) = checkins.retention(session, team_id="T1", community_id=guild.id)
    assert (kept.answers, kept.still, kept.flagged) == (3, 1, False)
    assert reply(2, "stopped").flagged and playbook.unused_since == END  # changed their answer
    assert checkins.retention(session, team_id="T1", community_id=guild.id)[0].flagged

    later = [checkins.claim(session, adoption=a, stage=90) for a in marks[:3]]
    later_ids = [c.id for c in later if c is not None]
    for n in range(3):  # the latest stage with three answers speaks now: all still use it
        reply(n, "yes", later_ids)
    (kept,) = checkins.retention(session, team_id="T1", community_id=guild.id)
    assert (kept.stage, kept.still) == (90, 3)

    records = jobs.export_records(session, [guild])["adoptions"]
    assert records[0]["checkins"] == {"day_30": "stopped", "day_90": "yes"}
    privacy.forget_user(session, Person(team_id="T1", user_id="U5"))
    session.expire_all()
    assert jobs.export_records(session, [guild])["adoptions"][0]["checkins"] == {}
    assert privacy.purge_before(session, now() + timedelta(days=1), "T1") > 0
    assert session.scalar(select(func.count()).select_from(AdoptionCheckin)) == 0
