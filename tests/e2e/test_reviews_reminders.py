"""The session review reminder: one DM to the facilitator when no review is linked after the delay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities import service as communities
from copbot.reviews.models import Review
from copbot.rituals.models import Occurrence, RitualSchedule
from copbot.runtime import Runtime
from copbot.scheduling.runner import tick
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e


def _community(engine: Engine) -> int:
    form = communities.CommunityForm.parse(
        {"name": "Guild", "purpose": "Sessions every week.", "timezone": "UTC"}
    )
    with Session(engine) as session:
        community, _ = communities.save_community(
            session, team_id="T1", channel_id="C1", user_id="U1", form=form
        )
        session.commit()
        return community.id


def held_session(engine: Engine, community_id: int, ends_at, facilitator: str) -> int:
    """A session of the community that ended at `ends_at`, as rituals stores it."""
    with Session(engine) as session:
        schedule = RitualSchedule(
            team_id="T1", community_id=community_id, kind="sessions", title="Weekly", created_by="U1"
        )
        session.add(schedule)
        session.flush()
        occurrence = Occurrence(
            team_id="T1",
            community_id=community_id,
            schedule_id=schedule.id,
            kind="session",
            starts_at=ends_at - timedelta(hours=1),
            ends_at=ends_at,
            post_at=ends_at - timedelta(hours=1),
            facilitator_id=facilitator,
        )
        session.add(occurrence)
        session.commit()
        return occurrence.id


def test_facilitator_is_reminded_once_after_the_delay(
    engine: Engine, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    community_id = _community(engine)
    ended = now().replace(microsecond=0) - timedelta(days=1)
    lonely = held_session(engine, community_id, ended, "U5")
    reviewed = held_session(engine, community_id, ended + timedelta(minutes=1), "U6")
    with Session(engine) as session:
        session.add(
            Review(
                team_id="T1",
                community_id=community_id,
                author_id="U6",
                template="after_action",
                title="Done",
                context="c",
                happened="h",
                occurrence_id=reviewed,
            )
        )
        session.commit()
    for at in (ended + timedelta(hours=23), ended + timedelta(hours=25), ended + timedelta(hours=30)):
        tick(at, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    dms = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"].startswith("D")]
    assert [c.params["channel"] for c in dms] == ["DU5"]
    button = dms[0].params["blocks"][-1]["elements"][0]
    assert button["action_id"] == "review_open" and f'"o": {lonely}' in button["value"]
