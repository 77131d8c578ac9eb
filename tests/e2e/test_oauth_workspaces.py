"""Many workspaces: OAuth installs through the real server, isolation between workspaces, uninstall."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot import export
from copbot.communities import service as communities
from copbot.communities.models import Workspace
from copbot.config import Settings
from copbot.features import FEATURES
from copbot.oauth.models import bots_table, states_table
from copbot.recognition import service as recognition
from copbot.reviews import service as reviews
from copbot.runtime import Runtime
from copbot.scheduling.runner import tick
from tests.conftest import SIGNING_SECRET, ServerThread
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, external, plain

pytestmark = pytest.mark.e2e

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret"


def _access(team: str, token: str, *, refresh: str | None = None, expires_in: int | None = None) -> dict:
    answer = {
        "ok": True,
        "app_id": "A1",
        "authed_user": {"id": f"U{team}"},
        "scope": "commands,chat:write",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": f"UB{team}",
        "team": {"id": team, "name": f"Team {team}"},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if refresh:
        answer.update(refresh_token=refresh, expires_in=expires_in)
    return answer


@pytest.fixture
def oauth_runtime(database_url: str, fake_slack: FakeSlack, engine: Engine) -> Iterator[Runtime]:
    settings = Settings(
        _env_file=None,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_api_url=fake_slack.url,
        database_url=database_url,
        listener_threads=8,
    )
    runtime = Runtime(settings)
    yield runtime
    runtime.app.listener_runner.listener_executor.shutdown(wait=True)
    runtime.engine.dispose()


@pytest.fixture
def oauth_server(oauth_runtime: Runtime) -> Iterator[ServerThread]:
    thread = ServerThread(oauth_runtime)
    thread.start()
    yield thread
    thread.stop()


def _install(
    server: ServerThread, fake: FakeSlack, team: str, token: str, **access: object
) -> httpx.Response:
    """Go through the install page and Slack's redirect as a browser would (cookies kept)."""
    fake.tokens[token] = team
    fake.oauth_responses[f"code-{team}"] = _access(team, token, **access)
    with Browser(server.url) as browser:
        state = browser.start_install()
        return browser.get("/slack/oauth_redirect", params={"code": f"code-{team}", "state": state})


class Browser(httpx.Client):
    """A browser on the install page. The state cookie is `Secure` (served behind HTTPS in production),
    so over the tests' plain HTTP it is carried by hand, as a browser would over HTTPS."""

    def __init__(self, base_url: str):
        super().__init__(base_url=base_url, follow_redirects=False)

    def start_install(self) -> str:
        page = self.get("/slack/install")
        assert page.status_code == 200 and "slack.com/oauth/v2/authorize" in page.text
        cookie = page.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie
        name, _, value = cookie.split(";")[0].partition("=")
        self.headers["Cookie"] = f"{name}={value}"
        return re.search(r"state=([\w-]+)", page.text).group(1)


def _bots(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(select(bots_table.c.team_id, bots_table.c.bot_token)).all())


def _uninstalled(engine: Engine, team_id: str) -> bool:
    with Session(engine) as session:
        workspace = session.get(Workspace, team_id)
        return workspace is not None and workspace.uninstalled_at is not None


def _setup(slack: SlackSender, team: str, channel: str, name: str) -> dict:
    values = {
        "name": {"name_input": plain(name)},
        "purpose": {"purpose_input": plain(f"The {name} of workspace {team}.")},
        "timezone": {"timezone_select": external("UTC")},
    }
    return slack.view_submission(
        "community_setup",
        values,
        team_id=team,
        user_id=f"U{team}",
        private_metadata=json.dumps({"channel_id": channel}),
    ).json()


def test_two_workspaces_install_and_stay_apart(
    oauth_server: ServerThread, oauth_runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    done = _install(oauth_server, fake_slack, "T1", "xoxb-team-one")
    assert done.status_code == 200 and "copbot is installed" in done.text
    assert _install(oauth_server, fake_slack, "T2", "xoxb-team-two").status_code == 200
    assert _bots(engine) == {"T1": "xoxb-team-one", "T2": "xoxb-team-two"}
    exchange = fake_slack.calls_to("oauth.v2.access")[0]
    credentials = base64.b64decode(exchange.headers["authorization"].removeprefix("Basic ")).decode()
    assert credentials == f"{CLIENT_ID}:{CLIENT_SECRET}" and exchange.params["code"] == "code-T1"

    slack = SlackSender(oauth_server.url, SIGNING_SECRET)
    assert _setup(slack, "T1", "C1", "Guild One")["response_action"] == "update"
    assert _setup(slack, "T2", "C2", "Guild Two")["response_action"] == "update"
    # the same channel id in the other workspace is another channel: no community there
    assert "no community yet" in slack.command("/cop", "join", team_id="T2", channel_id="C1").json()["text"]
    assert (
        "Guild Two"
        in slack.command("/cop", "join", team_id="T2", user_id="UX", channel_id="C2").json()["text"]
    )

    for team in ("T1", "T2"):
        report = tick(
            datetime.now(UTC), deps=oauth_runtime.deps, app=oauth_runtime.app, sender=oauth_runtime.sender
        )
        assert report.jobs_failed == 0, team
    posts = {call.params["channel"]: call.token for call in fake_slack.calls_to("chat.postMessage")}
    assert posts == {"C1": "xoxb-team-one", "C2": "xoxb-team-two"}  # each workspace's own token

    with Session(engine) as session:
        one = export.collect(session, FEATURES, team_id="T1")
        assert [c["name"] for c in one["communities"]] == ["Guild One"]
        assert {m["team_id"] for m in one["members"]} == {"T1"}


def test_uninstall_stops_one_workspace_and_leaves_the_other(
    oauth_server: ServerThread, oauth_runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _install(oauth_server, fake_slack, "T1", "xoxb-team-one")
    _install(oauth_server, fake_slack, "T2", "xoxb-team-two")
    slack = SlackSender(oauth_server.url, SIGNING_SECRET)
    assert slack.event({"type": "app_uninstalled"}, team_id="T1", event_id="EvU1").status_code == 200
    deadline = time.monotonic() + 5
    while not _uninstalled(engine, "T1") and time.monotonic() < deadline:  # handled after the ack
        time.sleep(0.02)
    assert _bots(engine) == {"T2": "xoxb-team-two"}
    with Session(engine) as session:
        assert session.get(Workspace, "T1").uninstalled_at is not None
        assert session.get(Workspace, "T2").uninstalled_at is None
    assert oauth_runtime.tokens.bot_token("T1") is None
    assert _setup(slack, "T2", "C2", "Guild Two")["response_action"] == "update"  # T2 untouched

    assert _install(oauth_server, fake_slack, "T1", "xoxb-team-one-again").status_code == 200  # resumes
    with Session(engine) as session:
        assert session.get(Workspace, "T1").uninstalled_at is None
    assert oauth_runtime.tokens.bot_token("T1") == "xoxb-team-one-again"


def test_invalid_or_replayed_state_stores_nothing(
    oauth_server: ServerThread, fake_slack: FakeSlack, engine: Engine
) -> None:
    fake_slack.oauth_responses["code-T1"] = _access("T1", "xoxb-team-one")
    with Browser(oauth_server.url) as browser:
        state = browser.start_install()
        forged = browser.get("/slack/oauth_redirect", params={"code": "code-T1", "state": "forged"})
        assert forged.status_code in (400, 401) and "was not installed" in forged.text
        fake_slack.oauth_responses["code-T1"] = _access("T1", "xoxb-team-one")
        good = browser.get("/slack/oauth_redirect", params={"code": "code-T1", "state": state})
        assert good.status_code == 200
        fake_slack.oauth_responses["code-T1"] = _access("T1", "xoxb-stolen")
        replay = browser.get("/slack/oauth_redirect", params={"code": "code-T1", "state": state})
        assert replay.status_code == 401 and "already used" in replay.text
    assert _bots(engine) == {"T1": "xoxb-team-one"}
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(states_table)).scalar() == 0


def test_expiring_token_is_rotated_before_use(
    oauth_server: ServerThread, oauth_runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _install(oauth_server, fake_slack, "T1", "xoxe.xoxb-old", refresh="xoxe-1-refresh", expires_in=600)
    fake_slack.oauth_responses["xoxe-1-refresh"] = {
        **_access("T1", "xoxe.xoxb-new", refresh="xoxe-1-refresh-2", expires_in=43200)
    }
    assert oauth_runtime.tokens.bot_token("T1") == "xoxe.xoxb-new"  # 10 minutes left: rotated first
    refresh_call = fake_slack.calls_to("oauth.v2.access")[-1].params
    assert refresh_call["grant_type"] == "refresh_token" and refresh_call["refresh_token"] == "xoxe-1-refresh"
    assert _bots(engine)["T1"] == "xoxe.xoxb-new"
    assert oauth_runtime.tokens.bot_token("T1") == "xoxe.xoxb-new"  # 12 hours left: no rotation
    assert len(fake_slack.calls_to("oauth.v2.access")) == 2


def test_a_request_rotates_an_expiring_token_through_the_configured_api_url(
    oauth_server: ServerThread, fake_slack: FakeSlack, engine: Engine
) -> None:
    """Bolt's own authorize path refreshes through SLACK_API_URL (the fake), never slack.com."""
    _install(oauth_server, fake_slack, "T1", "xoxe.xoxb-old", refresh="xoxe-1-refresh", expires_in=600)
    fake_slack.oauth_responses["xoxe-1-refresh"] = {
        **_access("T1", "xoxe.xoxb-new", refresh="xoxe-1-refresh-2", expires_in=43200)
    }
    fake_slack.strict_tokens = True
    slack = SlackSender(oauth_server.url, SIGNING_SECRET)
    assert slack.command("/cop", "setup", team_id="T1", trigger_id="trig-rot").status_code == 200
    (opened,) = fake_slack.wait_for("views.open")
    assert opened.token == "xoxe.xoxb-new" and opened.outcome == "ok"
    (refresh,) = [c for c in fake_slack.calls_to("oauth.v2.access") if c.params.get("grant_type")]
    assert (
        refresh.params["grant_type"] == "refresh_token"
        and refresh.params["refresh_token"] == "xoxe-1-refresh"
    )
    assert _bots(engine)["T1"] == "xoxe.xoxb-new"
    with pytest.raises(SlackApiError) as expired:  # the old token is dead at Slack now
        WebClient(base_url=fake_slack.url).auth_test(token="xoxe.xoxb-old")
    assert expired.value.response["error"] == "token_expired"


def test_single_workspace_mode_has_no_install_pages(server: ServerThread) -> None:
    assert httpx.get(f"{server.url}/slack/install").status_code == 404
    assert httpx.get(f"{server.url}/slack/oauth_redirect?code=x&state=y").status_code == 404


def _library_and_recognition(session: Session, team: str) -> None:
    """A review and a public nomination in the workspace's community, as its members would make them."""
    community = communities.community_for_channel(session, team_id=team, channel_id=f"C{team[-1]}")
    form = reviews.ReviewForm.parse(
        {
            "template": "postmortem",
            "title": f"Failover drill of {team}",
            "context": "We practised a database failover",
            "happened": "Replication lag hid the problem",
            "lessons": "Check replication lag first",
        }
    )
    reviews.create_review(session, team_id=team, user_id=f"U{team}", community=community, form=form)
    value = recognition.settings_for(session, community=community).values[0]
    nomination = recognition.NominationForm(
        nominees=[f"UNOMINEE{team}"],
        value=value,
        public=True,
        action=f"Ran the failover drill of {team} calmly",
        impact="Everyone learned the runbook by heart",
    )
    recognition.nominate(
        session, community=community, nominator_id=f"U{team}", form=nomination, at=MONDAY - timedelta(days=2)
    )


MONDAY = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)  # digests default to Monday 09:00 in the community's zone


def test_each_workspace_sees_only_its_own_library_recognition_and_digest(
    oauth_server: ServerThread, oauth_runtime: Runtime, fake_slack: FakeSlack, engine: Engine
) -> None:
    _install(oauth_server, fake_slack, "T1", "xoxb-team-one")
    _install(oauth_server, fake_slack, "T2", "xoxb-team-two")
    slack = SlackSender(oauth_server.url, SIGNING_SECRET)
    _setup(slack, "T1", "C1", "Guild One")
    _setup(slack, "T2", "C2", "Guild Two")
    with Session(engine) as session:
        _library_and_recognition(session, "T1")
        _library_and_recognition(session, "T2")
        session.commit()

    found = json.dumps(slack.command("/cop", "search failover", team_id="T2", channel_id="C2").json())
    assert "Failover drill of T2" in found and "T1" not in found
    with Session(engine) as session:
        exported = export.collect(session, FEATURES, team_id="T2")
    assert [r["title"] for r in exported["reviews"]] == ["Failover drill of T2"]
    assert [n["team_id"] for n in exported["nominations"]] == ["T2"]

    fake_slack.clear()
    tick(MONDAY, deps=oauth_runtime.deps, app=oauth_runtime.app, sender=oauth_runtime.sender)
    digests = {
        c.params["channel"]: c
        for c in fake_slack.calls_to("chat.postMessage")
        if "digest" in json.dumps(c.params.get("metadata"))
    }
    assert set(digests) == {"C1", "C2"}
    assert digests["C1"].token == "xoxb-team-one" and digests["C2"].token == "xoxb-team-two"
    assert "of T1" in json.dumps(digests["C1"].params) and "of T2" not in json.dumps(digests["C1"].params)

    slack.event({"type": "app_uninstalled"}, team_id="T1", event_id="EvU9")
    deadline = time.monotonic() + 5
    while not _uninstalled(engine, "T1") and time.monotonic() < deadline:
        time.sleep(0.02)
    fake_slack.clear()
    tick(
        MONDAY + timedelta(days=7),
        deps=oauth_runtime.deps,
        app=oauth_runtime.app,
        sender=oauth_runtime.sender,
    )
    channels = {c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")}
    assert channels == {"C2"}  # the uninstalled workspace rests; the other carries on
