"""Does it stick, end to end: the adopter's check-in DMs 30 and 90 days after "We applied this" (once
each, whatever runs the job), answers in place, the retention leads see in `/cop stats`, and a practice
nobody still uses falling due for re-verification."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.db import session_scope
from copbot.outbox.models import OutboxMessage
from copbot.reviews import checkin_flows
from copbot.reviews.models import AdoptionCheckin, Lesson, LessonStatus
from copbot.runtime import Runtime
from copbot.scheduling.runner import tick
from tests.e2e.test_health_flows import _stats
from tests.e2e.test_reviews_flows import make_community, submit_review
from tests.e2e.test_reviews_spread import click_applied, join, only_review_id
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender

pytestmark = pytest.mark.e2e


def checkin_dms(fake_slack: FakeSlack, user_id: str) -> list[dict]:
    return [m for m in fake_slack.messages_in(f"D{user_id}") if "days ago you applied" in json.dumps(m)]


def answer(slack: SlackSender, fake_slack: FakeSlack, dm: dict, action_id: str, user_id: str) -> dict:
    (actions,) = [b for b in dm["blocks"] if b.get("block_id") == "review_checkin_actions"]
    (button,) = [e for e in actions["elements"] if e["action_id"] == action_id]
    url = fake_slack.response_url(f"checkin-{user_id}-{button['value']}-{action_id}")
    slack.block_action(
        action_id, value=button["value"], user_id=user_id, channel_id=f"D{user_id}", response_url=url
    )
    return fake_slack.wait_for_call(
        lambda c: c.method == "response_url" and url.endswith(c.params["_path"])
    ).params


def test_adopters_are_asked_once_at_30_and_90_days_and_answer_in_place(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, runtime: Runtime
) -> None:
    guild = make_community(engine, "C1", lead="U1", name="Incident Guild")
    make_community(engine, "C2", lead="U9", name="SRE Guild")
    submit_review(slack, {"community_id": guild}, user_id="U1")
    review_id = only_review_id(engine, "Database failover drill")
    click_applied(slack, fake_slack, f"review:{review_id}", "U9", "C1")
    start = now()

    tick(start + timedelta(days=29), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    assert checkin_dms(fake_slack, "U9") == []
    month = start + timedelta(days=30, hours=1)
    for _ in range(2):  # a repeated `copbot tick --at`
        tick(month, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    (dm,) = checkin_dms(fake_slack, "U9")
    assert "30 days ago you applied *Database failover drill* from <#C1>" in json.dumps(dm)

    reply = answer(slack, fake_slack, dm, "review_checkin_stopped", "U9")
    assert reply["replace_original"] is True and "We stopped" in json.dumps(reply["blocks"])
    assert "review_checkin_actions" not in json.dumps(reply["blocks"])  # answered: no buttons left
    refused = answer(slack, fake_slack, dm, "review_checkin_yes", "U7")  # not theirs to answer
    assert "Only the person who applied it" in refused["text"]
    with Session(engine) as session:
        assert session.scalars(select(AdoptionCheckin.answer)).all() == ["stopped"]

    quarter = start + timedelta(days=90, hours=1)
    tick(quarter, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    tick(quarter + timedelta(hours=3), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    dms = checkin_dms(fake_slack, "U9")
    assert len(dms) == 2 and "90 days ago" in json.dumps(dms[-1])


def test_two_replicas_owe_one_checkin_per_stage(engine: Engine, runtime: Runtime, slack: SlackSender,
                                                 fake_slack: FakeSlack) -> None:  # fmt: skip
    guild = make_community(engine, "C1", lead="U1")
    submit_review(slack, {"community_id": guild}, user_id="U1")
    review_id = only_review_id(engine, "Database failover drill")
    click_applied(slack, fake_slack, f"review:{review_id}", "U4", "C1")
    at = now() + timedelta(days=30, minutes=5)
    barrier = threading.Barrier(2)

    def replica() -> None:
        barrier.wait()
        with session_scope(runtime.deps.sessions) as session:
            checkin_flows.owe_checkins(session, at=at)

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(AdoptionCheckin)) == 1
        owed = select(func.count()).where(OutboxMessage.key.like("adoption-checkin:%"))
        assert session.scalar(owed) == 1


def test_a_practice_nobody_still_uses_falls_due_and_leads_see_retention(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, runtime: Runtime
) -> None:
    guild = make_community(engine, "C1", lead="U1", name="Incident Guild")
    make_community(engine, "C2", lead="U9", name="SRE Guild")
    submit_review(slack, {"community_id": guild}, user_id="U1")
    review_id = only_review_id(engine, "Database failover drill")
    adopters = ["U5", "U6", "U7"]
    for user_id in adopters:
        join(engine, "C2", user_id)
        click_applied(slack, fake_slack, f"review:{review_id}", user_id, "C2")
    month = now() + timedelta(days=30, hours=1)
    tick(month, deps=runtime.deps, app=runtime.app, sender=runtime.sender)

    answer(slack, fake_slack, checkin_dms(fake_slack, "U5")[0], "review_checkin_stopped", "U5")
    answer(slack, fake_slack, checkin_dms(fake_slack, "U6")[0], "review_checkin_no", "U6")
    early = json.dumps(_stats(slack, fake_slack, "stats", user_id="U1"))
    assert "Shown once a practice has 3 check-in answers" in early  # two answers: no aggregate yet
    with Session(engine) as session:
        assert all(
            lesson.status_at(month) == LessonStatus.VERIFIED for lesson in session.scalars(select(Lesson))
        )

    answer(slack, fake_slack, checkin_dms(fake_slack, "U7")[0], "review_checkin_stopped", "U7")
    with Session(engine) as session:
        lessons = session.scalars(select(Lesson)).all()
        assert lessons and all(
            lesson.status_at(now() + timedelta(days=31)) == LessonStatus.STALE for lesson in lessons
        )
    stats = json.dumps(_stats(slack, fake_slack, "stats", user_id="U1"))
    assert "*Database failover drill*: 0% still use it (3 answers at 30 days)" in stats
    assert "nobody still uses it: up for re-verification" in stats
    assert "Does it stick" not in json.dumps(_stats(slack, fake_slack, "stats", user_id="U5"))

    fake_slack.clear()
    tick(now() + timedelta(days=31), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    owner = json.dumps(fake_slack.messages_in("DU1"))
    assert "is due for a check" in owner  # the lessons' owner is asked to re-verify them
