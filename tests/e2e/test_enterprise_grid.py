"""Enterprise Grid: org-wide installs in OAuth mode, `team: null` payloads, communities in their workspace."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from copbot.communities.models import Community, Member, Workspace
from copbot.oauth.models import bots_table
from copbot.runtime import Runtime
from tests.conftest import SIGNING_SECRET, ServerThread
from tests.e2e.test_oauth_workspaces import Browser, oauth_runtime, oauth_server  # noqa: F401 (fixtures)
from tests.e2e.test_slack_edge import SETUP_VALUES
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, block_action_payload, view_submission_payload
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

ORG, WORKSPACE = "E0ORG", "T0WORK"


def _org_shaped(payload: dict) -> dict:
    """What an org-wide install sends: `team` null, the org in `enterprise`, the workspace in the user."""
    payload.update(team=None, enterprise={"id": ORG, "name": "Org Corp"}, is_enterprise_install=True)
    payload["user"]["team_id"] = WORKSPACE
    if "view" in payload:
        payload["view"].update(team_id=WORKSPACE, app_installed_team_id=ORG)
    return payload


def _setup(slack: SlackSender, channel: str = "C0ORG", user: str = "W0BOB") -> None:
    payload = view_submission_payload(
        "community_setup", SETUP_VALUES, user_id=user, private_metadata=json.dumps({"channel_id": channel})
    )
    response = slack.interaction(_org_shaped(payload))
    assert response.status_code == 200, response.text


def test_team_null_payloads_never_crash_and_stay_in_the_channels_workspace(
    slack: SlackSender, engine: Engine
) -> None:
    """Single-workspace mode too: a modal submission with `team: null` used to fail with TypeError."""
    _setup(slack)
    join = _org_shaped(block_action_payload("join_community", value="1", user_id="W0DAN", channel_id="C0ORG"))
    assert slack.interaction(join).status_code == 200  # the join itself runs after the ack

    def members() -> set[tuple[str, str]]:
        with Session(engine) as session:
            return {(m.team_id, m.user_id) for m in session.scalars(select(Member))}

    wait_until(lambda: (WORKSPACE, "W0DAN") in members(), "the join")
    assert members() == {(WORKSPACE, "W0BOB"), (WORKSPACE, "W0DAN")}
    with Session(engine) as session:
        assert [(c.team_id, c.channel_id) for c in session.scalars(select(Community))] == [
            (WORKSPACE, "C0ORG")
        ]


def _org_access(token: str) -> dict:
    """oauth.v2.access for an org-wide install, as Slack documents it: no team, the enterprise, the flag."""
    return {
        "ok": True,
        "app_id": "A1",
        "authed_user": {"id": "W0ADMIN"},
        "scope": "commands,chat:write",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": "W0COPBOT",
        "team": None,
        "enterprise": {"id": ORG, "name": "Org Corp"},
        "is_enterprise_install": True,
    }


def test_org_wide_install_serves_every_workspace_of_the_org_until_uninstalled(
    oauth_server: ServerThread,  # noqa: F811
    oauth_runtime: Runtime,  # noqa: F811
    fake_slack: FakeSlack,
    engine: Engine,
) -> None:
    fake_slack.tokens["xoxb-org"] = ORG
    fake_slack.strict_tokens = True
    fake_slack.oauth_responses["code-org"] = _org_access("xoxb-org")
    with Browser(oauth_server.url) as browser:
        state = browser.start_install()
        page = browser.get("/slack/oauth_redirect", params={"code": "code-org", "state": state})
    assert page.status_code == 200, page.text
    with engine.connect() as connection:
        bots = connection.execute(
            select(bots_table.c.enterprise_id, bots_table.c.team_id, bots_table.c.bot_token)
        )
        assert bots.all() == [(ORG, None, "xoxb-org")]

    slack = SlackSender(oauth_server.url, SIGNING_SECRET)
    command = slack.command(
        "/cop", "setup", team_id=WORKSPACE, channel_id="C0ORG", trigger_id="trig-org", user_id="W0BOB",
        enterprise_id=ORG, enterprise_name="Org Corp", is_enterprise_install="true",
    )  # fmt: skip
    assert command.status_code == 200
    (opened,) = fake_slack.wait_for("views.open")
    assert opened.token == "xoxb-org" and opened.outcome == "ok"
    _setup(slack)
    oauth_runtime.sender.drain()  # the announcement goes out with the org's token, found for T0WORK
    (announced,) = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "C0ORG"]
    assert announced.token == "xoxb-org" and announced.outcome == "ok"
    with Session(engine) as session:
        assert session.get(Workspace, WORKSPACE).enterprise_id == ORG

    # app_uninstalled from the org-wide install (shaped after bolt-python test_events_org_apps.py)
    body = {
        "token": "verification_token", "team_id": WORKSPACE, "enterprise_id": ORG, "api_app_id": "A1",
        "event": {"type": "app_uninstalled", "event_ts": "1700000000.000100"},
        "type": "event_callback", "event_id": "Ev0ORGGONE", "event_time": 1700000000,
        "authorizations": [{"enterprise_id": ORG, "team_id": None, "user_id": "W0COPBOT", "is_bot": True,
                            "is_enterprise_install": True}],
    }  # fmt: skip
    assert slack.post_signed(json.dumps(body).encode(), "application/json").status_code == 200

    def gone() -> bool:
        with Session(engine) as session:
            return session.get(Workspace, WORKSPACE).uninstalled_at is not None

    wait_until(gone, "the org's workspaces to stop")
    with engine.connect() as connection:
        assert connection.execute(select(bots_table.c.bot_token)).all() == []
