"""Forget-me and retention for the practice library: the library stays, naming no one."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copbot import privacy as privacy_core
from copbot.clock import now
from copbot.communities import service as communities
from copbot.db import Base
from copbot.feature import Person
from copbot.features import FEATURES
from copbot.reviews import privacy, service
from copbot.reviews.models import Adoption, Lesson, Playbook, Review

FORGOTTEN = "UFORGET01"


def _rows_naming(session: Session, needle: str) -> list[str]:
    found = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            for column, value in row.items():
                text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
                if needle in text:
                    found.append(f"{table.name}.{column}")
    return found


def _library(session: Session) -> Review:
    form = communities.CommunityForm.parse(
        {"name": "Guild", "purpose": "Learning together.", "timezone": "UTC"}
    )
    community, _ = communities.save_community(
        session, team_id="T1", channel_id="C1", user_id="ULEAD01", form=form
    )
    review_form = service.ReviewForm.parse(
        {
            "template": "postmortem",
            "title": "Failover drill",
            "context": "We practised a failover",
            "happened": "It took too long",
            "lessons": "Check replication lag first",
            "coauthors": [FORGOTTEN, "UOTHER01"],
        }
    )
    review = service.create_review(
        session, team_id="T1", user_id=FORGOTTEN, community=community, form=review_form
    )
    playbook_form = service.PlaybookForm(
        playbook_title="Failover", playbook_when="When the primary dies", playbook_steps="1. Check lag"
    )
    service.create_playbook(session, team_id="T1", user_id=FORGOTTEN, community=community, form=playbook_form)
    service.adopt(
        session,
        team_id="T1",
        user_id=FORGOTTEN,
        kind="review",
        item_id=review.id,
        source_community_id=community.id,
        adopter_community_id=community.id,
    )
    service.claim(session, team_id="T1", key=f"reaction:C1:1.2:{FORGOTTEN}", data={"author": FORGOTTEN})
    session.flush()
    return review


def test_forget_me_leaves_the_library_naming_no_one(session: Session) -> None:
    review = _library(session)
    assert _rows_naming(session, FORGOTTEN)
    privacy_core.forget(session, FEATURES, Person("T1", FORGOTTEN))  # every feature's forget
    session.flush()
    session.expire_all()
    assert _rows_naming(session, FORGOTTEN) == []
    kept = session.get_one(Review, review.id)
    assert kept.title == "Failover drill" and kept.coauthors == ["UOTHER01"]
    assert service.adoption_counts(session, team_id="T1", kind="review", ids=[review.id]) == {review.id: 1}
    assert service.lessons_due(session, at=now() + timedelta(days=365)) == []  # no one left to ask


def test_retention_deletes_only_what_is_older(session: Session) -> None:
    _library(session)
    session.flush()
    assert privacy.purge_before(session, cutoff=now() - timedelta(days=1), team_id="T1") == 0
    assert privacy.purge_before(session, cutoff=now() + timedelta(seconds=1), team_id="T2") == 0
    assert privacy.purge_before(session, cutoff=now() + timedelta(seconds=1), team_id="T1") >= 4
    for model in (Review, Lesson, Playbook, Adoption):
        assert session.scalar(select(func.count()).select_from(model)) == 0
