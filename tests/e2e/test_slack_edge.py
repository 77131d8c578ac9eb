"""The Slack edge end to end: signed requests to the real HTTP server, Web API calls to the fake Slack."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.blockkit import text_message
from copbot.clock import now
from copbot.communities.models import Community, Member
from copbot.inbox.models import ProcessedEvent
from copbot.outbox import service as outbox
from copbot.outbox.models import OutboxMessage
from copbot.runtime import Runtime
from copbot.scheduling.runner import tick
from copbot.slack.events import on_event
from tests.conftest import ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, external, plain

pytestmark = pytest.mark.e2e

SETUP_VALUES = {
    "name": {"name_input": plain("Incident Guild")},
    "purpose": {"purpose_input": plain("Learn from every incident we run.")},
    "learning_goals": {"learning_goals_input": plain("Blameless <!channel> reviews & more")},
    "boundaries": {"boundaries_input": plain(None)},
    "norms": {"norms_input": plain(None)},
    "timezone": {"timezone_select": external("Europe/Berlin")},
}


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def _setup_community(slack: SlackSender, user_id: str = "U1") -> httpx.Response:
    return slack.view_submission(
        "community_setup", SETUP_VALUES, user_id=user_id, private_metadata=json.dumps({"channel_id": "C1"})
    )


def test_health_reports_schema(server: ServerThread) -> None:
    response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["schema"]


def test_url_verification_needs_a_signature(slack: SlackSender) -> None:
    assert slack.url_verification("abc").json() == {"challenge": "abc"}
    body = json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"}).encode()
    assert slack.post_raw(body, {"Content-Type": "application/json"}).status_code == 401


@pytest.mark.parametrize(
    "tamper",
    [
        {"unsigned": True},
        {"bad_signature": True},
        {"skew": -301},
        {"skew": +301},
    ],
    ids=["missing", "wrong", "stale", "future"],
)
def test_bad_signatures_get_401_and_change_nothing(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, tamper: dict
) -> None:
    if "skew" in tamper:  # computed here, not at collection, so the clock has not moved meanwhile
        tamper = {"timestamp": int(time.time()) + tamper["skew"]}
    body = (
        "token=x&team_id=T1&user_id=U1&channel_id=C1&command=%2Fcop&text=join&trigger_id=t1"
        "&response_url=http%3A%2F%2F127.0.0.1%2Fr"
    )
    response = slack._post(body.encode(), "application/x-www-form-urlencoded", **tamper)
    assert response.status_code == 401
    event = slack._post(
        json.dumps(
            {"type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event": {"type": "app_mention"}}
        ).encode(),
        "application/json",
        **tamper,
    )
    assert event.status_code == 401
    assert _count(engine, ProcessedEvent) == 0 and _count(engine, Member) == 0
    assert fake_slack.calls == []


def test_help_lists_every_command(slack: SlackSender, fake_slack: FakeSlack) -> None:
    response = slack.command("/cop", "help")
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    listing = json.dumps(reply["blocks"])
    for usage in ("/cop help", "/cop setup", "/cop join", "/cop leave"):
        assert usage in listing
    assert slack.command("/cop", "").json()["blocks"] == reply["blocks"]


def test_unknown_subcommand_gets_help_not_silence(slack: SlackSender) -> None:
    reply = slack.command("/cop", "frobnicate <!channel>").json()
    assert reply["response_type"] == "ephemeral"
    text = json.dumps(reply["blocks"])
    assert "I don't know `/cop frobnicate`" in text and "/cop setup" in text


def test_setup_opens_the_modal_after_the_ack(slack: SlackSender, fake_slack: FakeSlack) -> None:
    response = slack.command("/cop", "setup", trigger_id="trig-1")
    assert response.status_code == 200 and response.content == b""
    (call,) = fake_slack.wait_for("views.open")
    assert call.params["trigger_id"] == "trig-1"
    view = call.params["view"]
    assert view["callback_id"] == "community_setup"
    assert json.loads(view["private_metadata"]) == {"channel_id": "C1"}
    assert {b.get("block_id") for b in view["blocks"]} >= {"name", "purpose", "timezone"}


def test_invalid_setup_gets_field_errors_and_stores_nothing(slack: SlackSender, engine: Engine) -> None:
    values = {
        **SETUP_VALUES,
        "purpose": {"purpose_input": plain("short")},
        "timezone": {"timezone_select": external("Mars/Base")},
    }
    response = slack.view_submission(
        "community_setup", values, private_metadata=json.dumps({"channel_id": "C1"})
    )
    reply = response.json()
    assert reply["response_action"] == "errors"
    assert set(reply["errors"]) == {"purpose", "timezone"}
    assert _count(engine, Community) == 0 and _count(engine, OutboxMessage) == 0


def test_setup_stores_then_announces_through_the_outbox(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    reply = _setup_community(slack).json()
    assert reply["response_action"] == "update"
    assert "Incident Guild" in json.dumps(reply["view"])
    with Session(engine) as session:
        community = session.scalars(select(Community)).one()
        assert (community.team_id, community.channel_id, community.timezone) == ("T1", "C1", "Europe/Berlin")
        assert session.scalars(select(OutboxMessage.key)).all() == [f"community-opened:{community.id}"]
    runtime.sender.drain()
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "C1"
    rendered = json.dumps(post.params["blocks"])
    assert "&lt;!channel&gt;" in rendered and "<!channel>" not in rendered  # user text pings no one


def test_join_and_leave(slack: SlackSender, engine: Engine) -> None:
    assert "no community yet" in slack.command("/cop", "join").json()["text"]
    _setup_community(slack)
    assert "Welcome to *Incident Guild*" in slack.command("/cop", "join", user_id="U2").json()["text"]
    assert "already a member" in slack.command("/cop", "join", user_id="U2").json()["text"]
    assert "You have left" in slack.command("/cop", "leave", user_id="U2").json()["text"]
    with Session(engine) as session:
        member = session.scalars(select(Member).where(Member.user_id == "U2")).one()
        assert member.left_at is not None


def test_setup_edit_is_refused_to_non_leads(slack: SlackSender, fake_slack: FakeSlack) -> None:
    _setup_community(slack)
    slack.command("/cop", "join", user_id="U2")
    slack.command("/cop", "setup", user_id="U2", response_url=fake_slack.response_url("setup"))
    (reply,) = fake_slack.wait_for("response_url")
    assert "Only a lead" in reply.params["text"] and "<@U1>" in reply.params["text"]
    assert fake_slack.calls_to("views.open") == []
    reply = _setup_community(slack, user_id="U2").json()
    assert reply["response_action"] == "errors" and "Only a lead" in json.dumps(reply["errors"])


def test_timezone_type_ahead(slack: SlackSender) -> None:
    options = slack.block_suggestion("timezone_select", "berl", block_id="timezone").json()["options"]
    assert options[0]["value"] == "Europe/Berlin"


def test_join_button_answers_by_response_url(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine
) -> None:
    _setup_community(slack)
    response = slack.block_action(
        "join_community", value="1", user_id="U5", response_url=fake_slack.response_url("j")
    )
    assert response.status_code == 200
    (reply,) = fake_slack.wait_for("response_url")
    assert "Welcome" in reply.params["text"] and reply.params["response_type"] == "ephemeral"


@pytest.fixture
def mention_listener(runtime: Runtime) -> list[str]:
    """A test feature: each app_mention owes one DM, so taking effect twice would show."""
    seen: list[str] = []

    def handle(session: Session, event: dict, body: dict) -> None:
        seen.append(body["event_id"])
        outbox.direct_message(
            session,
            team_id=body["team_id"],
            user_id=event["user"],
            key=f"m:{body['event_id']}:{len(seen)}",
            message=text_message("hi"),
        )

    on_event(runtime.app, runtime.deps, "app_mention", handle)
    return seen


def _wait_processed(engine: Engine, event_id: str, team_id: str = "T1") -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with Session(engine) as session:
            done = select(ProcessedEvent.processed_at).where(
                ProcessedEvent.event_id == event_id, ProcessedEvent.team_id == team_id
            )
            if session.scalar(done):
                return
        time.sleep(0.01)
    raise AssertionError(f"{event_id} was not processed")


def test_slack_retries_take_effect_once(
    mention_listener: list[str], slack: SlackSender, engine: Engine
) -> None:
    event = {"type": "app_mention", "user": "U2", "text": "hi", "channel": "C1", "ts": "1.1"}
    assert slack.event(event, event_id="Ev1").status_code == 200
    _wait_processed(engine, "Ev1")
    assert slack.event(event, event_id="Ev1", retry_num=1).status_code == 200
    assert slack.event(event, event_id="Ev1", team_id="T2").status_code == 200  # another workspace's id space
    _wait_processed(engine, "Ev1", team_id="T2")
    time.sleep(0.2)  # let a wrongly started second handler show itself
    assert mention_listener.count("Ev1") == 2  # once per workspace
    assert _count(engine, ProcessedEvent) == 2


def test_unhandled_event_types_get_200(slack: SlackSender, engine: Engine) -> None:
    response = slack.event({"type": "emoji_changed", "subtype": "add"}, event_id="EvX")
    assert response.status_code == 200
    _wait_processed(engine, "EvX")


def test_acked_event_lost_to_a_crash_is_replayed(
    mention_listener: list[str], runtime: Runtime, engine: Engine, fake_slack: FakeSlack
) -> None:
    body = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": "EvCrash",
        "event_time": 1,
        "event": {"type": "app_mention", "user": "U3", "text": "hi", "channel": "C1", "ts": "2.2"},
        "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
    }
    with Session(engine) as session:  # recorded and acked, then the process died before handling it
        session.add(
            ProcessedEvent(
                team_id="T1",
                event_id="EvCrash",
                event_type="app_mention",
                payload=body,
                received_at=now() - timedelta(minutes=5),
            )
        )
        session.commit()
    tick(now(), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    _wait_processed(engine, "EvCrash")
    assert mention_listener == ["EvCrash"]
    runtime.sender.drain()
    assert [c.params["users"] for c in fake_slack.calls_to("conversations.open")] == ["U3"]


def test_unexpected_error_gets_an_id_to_quote(
    runtime: Runtime, slack: SlackSender, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(ack, body) -> None:
        raise RuntimeError("database on fire")

    runtime.app.command("/boom")(explode)
    reply = slack.command("/boom", "x").json()
    assert reply["response_type"] == "ephemeral"
    assert "Something went wrong" in reply["text"] and "database on fire" not in reply["text"]
    error_id = reply["text"].split("`")[1]
    assert any(error_id in record.getMessage() and record.exc_info for record in caplog.records)


def test_unexpected_error_in_a_modal_keeps_it_open(
    runtime: Runtime, slack: SlackSender, engine: Engine
) -> None:
    def explode(ack, body) -> None:
        raise RuntimeError("boom")

    runtime.app.view("broken_modal")(explode)
    reply = slack.view_submission("broken_modal", {}).json()
    assert reply["response_action"] == "push"
    assert "error id" in json.dumps(reply["view"])
