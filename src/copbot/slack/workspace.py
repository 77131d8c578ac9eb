"""Which workspace a request from Slack is about: the one resolver every listener and the inbox use.

The envelope's own fields are wrong in two real cases. In a Slack Connect channel `team.id` (interactions)
and `team_id` (events) can name the other organisation's workspace; Bolt's context takes the workspace the
app is installed in instead (`view.app_installed_team_id` for views, `authorizations[0].team_id` for
events). An org-wide Enterprise Grid install sends `"team": null`, and Bolt's context then holds the
organisation's id (`E…`) or nothing; copbot keeps each community in the workspace it was made in, so it
falls back to the workspace the person acted in (`view.team_id`, the event's `team_id`, `user.team_id`).

Bolt builds its context with the functions used here, so `resolve(body)` equals Bolt's `context.team_id`
whenever that names a workspace, in a listener, a lazy listener, a replay or a middleware alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.request.internals import (
    extract_enterprise_id,
    extract_is_enterprise_install,
    extract_team_id,
)


@dataclass(frozen=True)
class WorkspaceRef:
    """The workspace copbot stores a request's data under, and the org it belongs to (Grid only)."""

    team_id: str
    enterprise_id: str | None = None
    is_enterprise_install: bool = False


def resolve(body: dict[str, Any]) -> WorkspaceRef:
    """The workspace of a request body (a command, an interaction payload or an event envelope)."""
    if not isinstance(body, dict):
        return WorkspaceRef("")
    enterprise_id = extract_enterprise_id(body) or None
    team_id = extract_team_id(body)
    if not _names_a_workspace(team_id, enterprise_id):
        team_id = _acting_workspace(body, enterprise_id)
    return WorkspaceRef(
        team_id=team_id or "",
        enterprise_id=enterprise_id if isinstance(enterprise_id, str) else None,
        is_enterprise_install=bool(extract_is_enterprise_install(body)),
    )


def workspace_id(body: dict[str, Any]) -> str:
    """The resolved workspace's team id ("" when the body names none)."""
    return resolve(body).team_id


def _names_a_workspace(candidate: Any, enterprise_id: str | None) -> bool:
    # An org-wide install's `app_installed_team_id` is the org (E…), not a workspace.
    if not isinstance(candidate, str) or not candidate:
        return False
    return candidate != enterprise_id and not candidate.startswith("E")


def _acting_workspace(body: dict[str, Any], enterprise_id: str | None) -> str | None:
    """Org-wide installs: the workspace the view was opened, the event happened or the person acted in."""
    view, user, event = (_part(body, name) for name in ("view", "user", "event"))
    for candidate in (view.get("team_id"), body.get("team_id"), event.get("team"), user.get("team_id")):
        if _names_a_workspace(candidate, enterprise_id):
            return candidate
    return None


def _part(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def workspace_domain(body: dict[str, Any]) -> str | None:
    """The resolved workspace's slack.com subdomain (for links), when the payload names it for that workspace.

    In a Slack Connect channel the payload's domain is the other organisation's; links then go without one.
    """
    team = body.get("team")
    if isinstance(team, dict) and team.get("id") == workspace_id(body):
        return team.get("domain") or None
    return None
