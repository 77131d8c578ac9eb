"""Bolt's OAuth flow wired to copbot: scopes from the manifest, stores in the database, clear pages."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from slack_bolt import BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from copbot import manifest
from copbot.config import Settings

if TYPE_CHECKING:  # the stores (slack_sdk's SQLAlchemy store, greenlet) load in OAuth mode only
    from copbot.oauth.stores import InstallationStore, StateStore

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

REASONS = {
    "invalid_browser": "This link was started in another browser (or its cookie expired).",
    "invalid_state": "This install link has expired or was already used.",
    "missing_code": "Slack did not send an authorisation code.",
    "invalid_code": "Slack did not accept the authorisation code.",
    "access_denied": "The installation was cancelled.",
    "storage_error": "copbot could not save the installation.",
}


def bot_scopes() -> list[str]:
    """The bot scopes the manifest declares: the install asks for exactly those."""
    import yaml  # here: a single-workspace server never needs PyYAML

    declared = yaml.safe_load(manifest.render())
    return list(declared["oauth_config"]["scopes"]["bot"])


def _page(title: str, body: str, status: int) -> BoltResponse:
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>copbot</title></head>"
        f"<body style='font-family:sans-serif;max-width:36em;margin:4em auto'><h1>{html.escape(title)}</h1>"
        f"<p>{body}</p></body></html>"
    )
    return BoltResponse(status=status, body=page, headers={"Content-Type": "text/html; charset=utf-8"})


def _success(args: SuccessArgs) -> BoltResponse:
    team = html.escape(args.installation.team_name or args.installation.team_id or "your workspace")
    return _page(
        "copbot is installed", f"copbot is ready in {team}. Run <code>/cop setup</code> in a channel.", 200
    )


def _failure(args: FailureArgs) -> BoltResponse:
    reason = REASONS.get(args.reason, "Slack reported: " + html.escape(args.reason))
    retry = f"<a href='{INSTALL_PATH}'>Start the installation again</a>."
    return _page(
        "copbot was not installed", f"{reason} Nothing was stored. {retry}", args.suggested_status_code
    )


def oauth_settings(settings: Settings, store: InstallationStore, states: StateStore) -> OAuthSettings:
    """Bolt's OAuth settings: /slack/install and /slack/oauth_redirect, stores in copbot's database."""
    secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else None
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=secret,
        scopes=bot_scopes(),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=states,
        callback_options=CallbackOptions(success=_success, failure=_failure),
    )


def installation_authorize(settings: Settings, store: InstallationStore) -> InstallationStoreAuthorize:
    """Bolt's authorize for OAuth mode, with its token rotator talking to `SLACK_API_URL`.

    Left to itself Bolt builds this from the OAuth settings with a client of its own, which refreshes
    tokens through https://slack.com/api/ whatever the configured base URL says.
    """
    secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else None
    return InstallationStoreAuthorize(
        logger=logging.getLogger("copbot.oauth"),
        installation_store=store,
        client_id=settings.slack_client_id,
        client_secret=secret,
        bot_only=True,
        # slack-sdk annotates the timeout as int; a float works
        client=WebClient(base_url=settings.slack_api_url, timeout=settings.slack_timeout),  # type: ignore[arg-type]
    )
