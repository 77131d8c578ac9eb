"""The one workspace resolver, on bodies shaped like those in Slack's SDK test suites.

Shapes follow slackapi/bolt-python tests/slack_bolt/request/test_internals.py (Slack Connect events),
tests/scenario_tests/test_events_shared_channels.py and test_events_org_apps.py (org-wide installs), and
the org-wide view payloads documented by Slack (`"team": null`, `app_installed_team_id` = the org).
"""

from __future__ import annotations

from typing import Any

import pytest

from copbot.slack.workspace import WorkspaceRef, resolve, workspace_id

INSTALLED = [
    {
        "enterprise_id": None,
        "team_id": "T0HOME",
        "user_id": "UBOT",
        "is_bot": True,
        "is_enterprise_install": False,
    }
]


def test_slack_connect_event_uses_the_installed_workspace_not_the_envelope() -> None:
    body = {
        "team_id": "T0OTHER",
        "context_team_id": "T0OTHER",
        "api_app_id": "A1",
        "event": {"type": "member_joined_channel", "user": "U9", "channel": "C1", "team": "T0OTHER"},
        "type": "event_callback",
        "event_id": "Ev1",
        "authorizations": INSTALLED,
        "is_ext_shared_channel": True,
    }
    assert resolve(body) == WorkspaceRef("T0HOME")


def test_slack_connect_view_uses_app_installed_team_id() -> None:
    body = {
        "type": "view_submission",
        "team": {"id": "T0OTHER", "domain": "other"},
        "user": {"id": "U9", "team_id": "T0OTHER"},
        "view": {"id": "V1", "team_id": "T0OTHER", "app_installed_team_id": "T0HOME", "callback_id": "x"},
        "is_enterprise_install": False,
        "enterprise": None,
    }
    assert workspace_id(body) == "T0HOME"


def test_org_wide_view_with_team_null_uses_the_view_workspace() -> None:
    body = {
        "type": "view_submission",
        "team": None,
        "user": {"id": "W1", "username": "ann", "team_id": "T0WORK"},
        "view": {"id": "V1", "team_id": "T0WORK", "app_installed_team_id": "E0ORG", "callback_id": "x"},
        "is_enterprise_install": True,
        "enterprise": {"id": "E0ORG", "name": "Org"},
    }
    assert resolve(body) == WorkspaceRef("T0WORK", "E0ORG", True)


def test_org_wide_event_without_team_in_authorizations_uses_the_envelope_workspace() -> None:
    body = {
        "team_id": "T111",
        "enterprise_id": "E111",
        "event": {"type": "app_home_opened", "user": "W111", "channel": "D111", "tab": "home"},
        "type": "event_callback",
        "event_id": "Ev111",
        "authorizations": [
            {
                "enterprise_id": "E111",
                "team_id": None,
                "user_id": "W111",
                "is_bot": True,
                "is_enterprise_install": True,
            }
        ],
    }
    assert resolve(body) == WorkspaceRef("T111", "E111", True)


def test_block_action_in_an_org_install_with_team_null_uses_the_user_workspace() -> None:
    body = {
        "type": "block_actions",
        "team": None,
        "user": {"id": "W1", "team_id": "T0WORK"},
        "enterprise": {"id": "E0ORG"},
        "is_enterprise_install": True,
        "actions": [],
    }
    assert workspace_id(body) == "T0WORK"


def test_command_form_body() -> None:
    body = {
        "team_id": "T1",
        "enterprise_id": "E1",
        "command": "/cop",
        "user_id": "U1",
        "is_enterprise_install": "false",
    }
    assert resolve(body) == WorkspaceRef("T1", "E1", False)


@pytest.mark.parametrize("body", [{}, {"team": None}, {"type": "team_access_granted"}, [], None])
def test_nothing_to_resolve_is_an_empty_workspace_never_an_error(body: Any) -> None:
    assert workspace_id(body) == ""


def test_no_code_but_the_resolver_reads_the_payloads_team() -> None:
    """One resolver: listeners never read `body["team"]` or the envelope's `team_id` themselves."""
    import re
    from pathlib import Path

    import copbot

    root = Path(copbot.__file__).parent
    raw = re.compile(r"""(body|payload)(\[|\.get\()["'](team|team_id)["']""")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.name != "workspace.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if raw.search(line)
    ]
    assert offenders == []
