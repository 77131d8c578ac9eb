"""Health end to end: App Home on open, /cop stats, /cop export to the lead's DM, the quarterly review."""

from __future__ import annotations

import csv
import io
import json
import struct
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities import service as communities
from copbot.health import chart
from copbot.health import jobs as health_jobs
from copbot.health.models import HealthSnapshot, QuarterlyReview
from copbot.outbox.models import Kind, OutboxMessage, Status
from copbot.reviews import service as reviews
from copbot.runtime import Runtime
from copbot.scheduling.jobs import JobContext
from copbot.scheduling.runner import tick
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender
from tests.unit.health import health_data as data
from tests.unit.health.health_data import utc

pytestmark = pytest.mark.e2e


@pytest.fixture
def guild(engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        return data.build(session)


def test_home_is_published_when_opened(
    slack: SlackSender, runtime: Runtime, fake_slack: FakeSlack, guild
) -> None:
    response = slack.event({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"})
    assert response.status_code == 200
    deadline = time.monotonic() + 60
    while "U1" not in fake_slack.home_views and time.monotonic() < deadline:
        runtime.sender.drain()  # the event is handled after the ack, on a listener thread
        time.sleep(0.02)
    view = fake_slack.home_views["U1"]
    text = json.dumps(view)
    assert view["type"] == "home" and "Your communities" in text and "Last 12 weeks" in text
    assert len(view["blocks"]) <= 100


def _published_home(runtime: Runtime, fake_slack: FakeSlack, count: int) -> dict:
    """The lead's App Home as published for the `count`th time."""
    deadline = time.monotonic() + 60
    while len(fake_slack.calls_to("views.publish")) < count and time.monotonic() < deadline:
        runtime.sender.drain()  # the event is handled after the ack, on a listener thread
        time.sleep(0.02)
    return fake_slack.calls_to("views.publish")[count - 1].params


def _contributions(view: dict) -> str:
    return next(
        e["text"]
        for b in view["view"]["blocks"]
        if b["type"] == "context"
        for e in b["elements"]
        if e["text"].startswith("Contributions:")
    )


def test_home_after_a_change_shows_the_stored_dashboard_then_the_refreshed_one(
    slack: SlackSender, runtime: Runtime, fake_slack: FakeSlack, engine: Engine, guild
) -> None:
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"})
    first = _published_home(runtime, fake_slack, 1)  # computed: the first view of this month
    assert "Counted" not in json.dumps(first)
    with Session(engine) as session:
        data.review(session, guild, "U2", now())
        session.commit()
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"})
    stale = _published_home(runtime, fake_slack, 2)
    assert _contributions(stale) == _contributions(first)  # served as stored, at once
    assert "Counted" in json.dumps(stale) and "updates itself" in json.dumps(stale)
    with Session(engine) as session:
        due = session.scalar(select(func.max(HealthSnapshot.refresh_after)))
    assert due is not None
    assert health_jobs.refresh_views(JobContext(deps=runtime.deps, at=due)) == 2  # this month, 12 weeks
    fresh = _published_home(runtime, fake_slack, 3)  # re-published to the lead by the refresh
    assert fresh["user_id"] == "U1" and "Counted" not in json.dumps(fresh)
    assert _contributions(fresh) != _contributions(first) and "review" in _contributions(fresh)


def test_the_lead_who_just_made_a_community_is_not_welcomed_as_its_newcomer(
    slack: SlackSender, runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    form = communities.CommunityForm.parse({"name": "Fresh", "purpose": "Learn together.", "timezone": "UTC"})
    with Session(engine) as session:
        communities.save_community(session, team_id="T1", channel_id="C7", user_id="UNEW", form=form)
        communities.join(session, team_id="T1", channel_id="C7", user_id="UJOINED")
        session.commit()
    for user in ("UNEW", "UJOINED"):
        slack.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"})
    deadline = time.monotonic() + 5
    while len({"UNEW", "UJOINED"} & set(fake_slack.home_views)) < 2 and time.monotonic() < deadline:
        runtime.sender.drain()
        time.sleep(0.02)
    assert "New to Fresh?" not in json.dumps(fake_slack.home_views["UNEW"])  # the lead who created it
    assert "New to Fresh?" in json.dumps(fake_slack.home_views["UJOINED"])  # a member who just joined


def _stats(slack: SlackSender, fake_slack: FakeSlack, text: str, **kwargs: str) -> dict:
    seen = len(fake_slack.calls_to("response_url"))
    name = f"s{seen}"
    ack = slack.command("/cop", text, response_url=fake_slack.response_url(name), **kwargs)
    assert ack.status_code == 200
    return fake_slack.wait_for("response_url", count=seen + 1)[-1].params


def test_stats_answers_after_the_ack(slack: SlackSender, fake_slack: FakeSlack, guild) -> None:
    body = _stats(slack, fake_slack, "stats quarter", user_id="U2")
    assert body["response_type"] == "ephemeral"
    text = json.dumps(body)
    assert "Guild" in text and "Q" in text and "Participation" in text and "Fairness" not in text
    assert "Fairness" in json.dumps(_stats(slack, fake_slack, "stats", user_id="U1"))
    assert "no community" in _stats(slack, fake_slack, "stats week", channel_id="C404")["text"]


def test_stats_counts_read_as_english(slack: SlackSender, fake_slack: FakeSlack, engine: Engine) -> None:
    form = communities.CommunityForm.parse({"name": "Small", "purpose": "Learn together.", "timezone": "UTC"})
    with Session(engine) as session:
        community, _ = communities.save_community(
            session, team_id="T1", channel_id="C8", user_id="UA", form=form
        )
        for user in ("UB", "UC"):
            communities.join(session, team_id="T1", channel_id="C8", user_id=user)
        review_form = reviews.ReviewForm.parse(
            {
                "template": "after_action",
                "title": "One",
                "context": "Context here",
                "happened": "It happened",
                "lessons": "A lesson",
            }
        )
        reviews.create_review(session, team_id="T1", user_id="UB", community=community, form=review_form)
        session.commit()
    body = _stats(slack, fake_slack, "stats month", user_id="UA", channel_id="C8")
    shown = json.dumps(body)
    assert body["text"].endswith("1 contributor of 3 members")  # was "1 contributors of 3 members"
    assert "1 review" in shown and "1 reviews" not in shown and "1 contributed" in shown


def test_stats_refuses_an_unknown_period_in_the_ack(slack: SlackSender, fake_slack: FakeSlack, guild) -> None:
    assert "know that period" in slack.command("/cop", "stats decade", user_id="U1").json()["text"]


def test_export_uploads_csv_to_the_leads_dm(slack: SlackSender, fake_slack: FakeSlack, guild) -> None:
    body = slack.command("/cop", "export", user_id="U1").json()
    assert "Preparing" in body["text"]
    complete = fake_slack.wait_for("files.completeUploadExternal")[0]
    assert complete.params["channel_id"] == "DU1"
    file_id = complete.params["files"][0]["id"]
    rows = list(csv.DictReader(io.StringIO(fake_slack.uploads[file_id].decode())))
    kinds = {r["record"] for r in rows}
    assert {"communities", "members"} <= kinds
    assert [r["name"] for r in rows if r["record"] == "communities"] == ["Guild"]  # not the other community
    assert sorted(r["user_id"] for r in rows if r["record"] == "members") == [f"U{i}" for i in range(1, 8)]


def test_export_refuses_a_member(slack: SlackSender, fake_slack: FakeSlack, guild) -> None:
    body = slack.command("/cop", "export", user_id="U2").json()
    assert "Only a lead" in body["text"]
    assert fake_slack.calls_to("files.getUploadURLExternal") == []


def test_setup_button_opens_the_modal_for_leads(slack: SlackSender, fake_slack: FakeSlack, guild) -> None:
    slack.block_action("health_open_setup", value="C1", user_id="U1")
    opened = fake_slack.wait_for("views.open")[0]
    assert opened.params["view"]["callback_id"] == "community_setup"


def _review_dms(engine: Engine) -> list[OutboxMessage]:
    return _owed(engine, Kind.DM)


def _owed(engine: Engine, kind: Kind) -> list[OutboxMessage]:
    with Session(engine) as session:
        found = select(OutboxMessage).where(
            OutboxMessage.key.like("health-quarter:%"), OutboxMessage.kind == kind
        )
        return list(session.scalars(found.order_by(OutboxMessage.id)))


def test_quarterly_review_once_per_quarter_with_chart(
    runtime: Runtime, engine: Engine, fake_slack: FakeSlack, guild
) -> None:
    with Session(engine) as session:
        data.member(session, guild, "U20", joined=utc(2026, 1, 1), roles=(data.Role.LEAD,))
        session.commit()
    before = utc(2026, 3, 31, 23, 50)
    tick(before, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    assert _review_dms(engine) == []
    end = utc(2026, 4, 1, 0, 5)
    tick(end, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    dms = _review_dms(engine)
    assert sorted(m.user_id for m in dms) == ["U1", "U20"]
    posted = [c for c in fake_slack.calls_to("chat.postMessage") if "in review" in c.params.get("text", "")]
    assert len(posted) == 2 and "2026 Q1 in review" in posted[0].params["text"]
    blocks_text = json.dumps(posted[0].params["blocks"])
    assert "2025 Q4" in blocks_text and "health_open_setup" in blocks_text
    uploads = fake_slack.calls_to("files.completeUploadExternal")  # each chart follows its delivered DM
    assert sorted(c.params["channel_id"] for c in uploads) == ["DU1", "DU20"]
    png = fake_slack.uploads[uploads[0].params["files"][0]["id"]]
    assert png.startswith(b"\x89PNG") and struct.unpack(">II", png[16:24]) == (chart.WIDTH, chart.HEIGHT)
    tick(end, deps=runtime.deps, app=runtime.app, sender=runtime.sender)  # the same instant again
    for at in (end + timedelta(minutes=20), end + timedelta(days=3)):
        health_jobs.run_quarterly(JobContext(deps=runtime.deps, at=at))
    runtime.sender.drain()
    assert len(_review_dms(engine)) == 2 and len(fake_slack.calls_to("files.completeUploadExternal")) == 2
    assert [m.status for m in _owed(engine, Kind.UPLOAD)] == [Status.DELIVERED, Status.DELIVERED]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(QuarterlyReview)) == 2  # Guild and Other


def test_quarter_found_too_late_is_skipped(runtime: Runtime, engine: Engine, guild) -> None:
    health_jobs.run_quarterly(JobContext(deps=runtime.deps, at=utc(2026, 4, 9)))
    assert _review_dms(engine) == []


def test_chart_upload_retried_after_a_slack_failure(
    runtime: Runtime, engine: Engine, fake_slack: FakeSlack, guild
) -> None:
    end = utc(2026, 4, 1, 0, 5)
    fake_slack.fail_next("files.completeUploadExternal", error="internal_error")
    tick(end, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    (upload,) = _owed(engine, Kind.UPLOAD)
    assert (upload.status, upload.last_error, upload.attempts) == (Status.PENDING, "internal_error", 1)
    with Session(engine) as session:  # the back-off has passed
        session.get_one(OutboxMessage, upload.id).next_attempt_at = utc(2020, 1, 1)
        session.commit()
    assert runtime.sender.drain().delivered == 1
    assert _owed(engine, Kind.UPLOAD)[0].status == Status.DELIVERED
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 2  # the failed try, then the upload
