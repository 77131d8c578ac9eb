"""Sends requests to copbot exactly as Slack does: signed slash commands, events and interactions.

Payload builders (``*_payload``) are plain functions so unit tests can use the same shapes without HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.blockkit import answer_problems

APP_ID = "A1"
BOT_USER_ID = "UBOT"
VERIFICATION_TOKEN = "legacy-verification-token"
UNREACHABLE_RESPONSE_BASE = "http://127.0.0.1:9/response/"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

_counter = itertools.count(1)
Payload = dict[str, Any]


# --------------------------------------------------------------------------- ids and small shapes


def fresh_trigger_id() -> str:
    """A unique trigger_id shaped like Slack's (``123.456.hex``)."""
    return f"{int(time.time())}{next(_counter):04d}.{next(_counter)}.{uuid.uuid4().hex}"


def fresh_event_id() -> str:
    """A unique event_id shaped like Slack's (``Ev...``)."""
    return f"Ev{uuid.uuid4().hex[:10].upper()}"


def fresh_ts() -> str:
    """A unique message-style timestamp."""
    return f"{time.time():.6f}"


def team_shape(team_id: str) -> Payload:
    """The ``team`` object of an interaction payload."""
    return {"id": team_id, "domain": f"team-{team_id.lower()}"}


def user_shape(user_id: str, team_id: str) -> Payload:
    """The ``user`` object of an interaction payload."""
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def view_shape(
    callback_id: str = "",
    *,
    team_id: str = "T1",
    values: dict[str, dict[str, Any]] | None = None,
    private_metadata: str = "",
    view_id: str | None = None,
    hash: str | None = None,
    view_type: str = "modal",
    blocks: list[dict[str, Any]] | None = None,
) -> Payload:
    """A ``view`` object as Slack includes it in view_submission / block_actions payloads."""
    view_id = view_id or f"V{uuid.uuid4().hex[:10].upper()}"
    return {
        "id": view_id,
        "team_id": team_id,
        "type": view_type,
        "blocks": blocks or [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": values or {}},
        "hash": hash or f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
        "title": {"type": "plain_text", "text": "Modal", "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": APP_ID,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": "BBOT",
    }


def _base(kind: str, team_id: str, user_id: str) -> Payload:
    return {
        "type": kind,
        "team": team_shape(team_id),
        "user": user_shape(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "enterprise": None,
        "is_enterprise_install": False,
    }


# --------------------------------------------------------------------------- state values


def _option(value: str) -> Payload:
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def plain(value: str | None) -> Payload:
    """State of a plain_text_input."""
    return {"type": "plain_text_input", "value": value}


def static(value: str | None) -> Payload:
    """State of a static_select (None: nothing selected)."""
    return {"type": "static_select", "selected_option": _option(value) if value is not None else None}


def external(value: str | None) -> Payload:
    """State of an external_select (None: nothing selected)."""
    return {"type": "external_select", "selected_option": _option(value) if value is not None else None}


def users(ids: list[str]) -> Payload:
    """State of a multi_users_select."""
    return {"type": "multi_users_select", "selected_users": list(ids)}


def user(user_id: str | None) -> Payload:
    """State of a users_select."""
    return {"type": "users_select", "selected_user": user_id}


def datepicker(date: str | None) -> Payload:
    """State of a datepicker (``YYYY-MM-DD``)."""
    return {"type": "datepicker", "selected_date": date}


def timepicker(time_str: str | None) -> Payload:
    """State of a timepicker (``HH:MM``)."""
    return {"type": "timepicker", "selected_time": time_str}


def checkboxes(values: list[str]) -> Payload:
    """State of a checkboxes element."""
    return {"type": "checkboxes", "selected_options": [_option(value) for value in values]}


def radio(value: str | None) -> Payload:
    """State of a radio_buttons element (None: nothing selected)."""
    return {"type": "radio_buttons", "selected_option": _option(value) if value is not None else None}


# --------------------------------------------------------------------------- payload builders


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    team_id: str = "T1",
    user_id: str = "U1",
    private_metadata: str = "",
    view_id: str | None = None,
    hash: str | None = None,
) -> Payload:
    """A ``view_submission`` payload."""
    view = view_shape(
        callback_id,
        team_id=team_id,
        values=values,
        private_metadata=private_metadata,
        view_id=view_id,
        hash=hash,
    )
    return {
        **_base("view_submission", team_id, user_id),
        "trigger_id": fresh_trigger_id(),
        "view": view,
        "response_urls": [],
    }


def block_action_payload(
    action_id: str,
    *,
    value: str | None = None,
    block_id: str = "b",
    team_id: str = "T1",
    user_id: str = "U1",
    channel_id: str = "C1",
    message_ts: str | None = None,
    view: Payload | None = None,
    action_type: str = "button",
    extra_action: Payload | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
) -> Payload:
    """A ``block_actions`` payload from a message (default) or from ``view`` (modal or home tab)."""
    action: Payload = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": fresh_ts(),
    }
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
    if value is not None:
        action["value"] = value
    action.update(extra_action or {})
    payload = {
        **_base("block_actions", team_id, user_id),
        "trigger_id": trigger_id or fresh_trigger_id(),
        "actions": [action],
    }
    if view is not None:
        full_view = {**view_shape(team_id=team_id), **view}
        state = full_view["state"]
        return {
            **payload,
            "container": {"type": "view", "view_id": full_view["id"]},
            "view": full_view,
            "state": state,
        }
    ts = message_ts or fresh_ts()
    message = {
        "type": "message",
        "ts": ts,
        "user": BOT_USER_ID,
        "bot_id": "BBOT",
        "text": "",
        "blocks": [],
        "team": team_id,
    }
    container = {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False}
    return {
        **payload,
        "container": container,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url or f"{UNREACHABLE_RESPONSE_BASE}action-{next(_counter)}",
    }


def message_shortcut_payload(
    callback_id: str,
    *,
    message: Payload,
    team_id: str = "T1",
    user_id: str = "U1",
    channel_id: str = "C1",
    trigger_id: str | None = None,
    response_url: str | None = None,
) -> Payload:
    """A ``message_action`` (message shortcut) payload."""
    full_message = {"type": "message", "ts": fresh_ts(), "user": "U2", "text": "", **message}
    return {
        **_base("message_action", team_id, user_id),
        "callback_id": callback_id,
        "trigger_id": trigger_id or fresh_trigger_id(),
        "action_ts": fresh_ts(),
        "message_ts": full_message["ts"],
        "message": full_message,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "response_url": response_url or f"{UNREACHABLE_RESPONSE_BASE}shortcut-{next(_counter)}",
    }


def block_suggestion_payload(
    action_id: str,
    value: str,
    *,
    block_id: str,
    team_id: str = "T1",
    user_id: str = "U1",
    view: Payload | None = None,
) -> Payload:
    """A ``block_suggestion`` payload (an external_select asking for options)."""
    full_view = {**view_shape(team_id=team_id), **(view or {})}
    return {
        **_base("block_suggestion", team_id, user_id),
        "container": {"type": "view", "view_id": full_view["id"]},
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "view": full_view,
    }


def event_envelope(
    event: Payload,
    *,
    team_id: str = "T1",
    event_id: str | None = None,
    event_time: int | None = None,
    installed_team_id: str | None = None,
) -> Payload:
    """An Events API ``event_callback`` envelope around ``event``.

    ``installed_team_id``: a Slack Connect channel, where the envelope's ``team_id`` is the other
    organisation's workspace and ``authorizations`` names the one copbot is installed in.
    """
    installed = installed_team_id or team_id
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or fresh_event_id(),
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": installed,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": installed != team_id,
    }


def fresh_execution_id() -> str:
    """A unique function_execution_id shaped like Slack's (``Fx...``)."""
    return f"Fx{uuid.uuid4().hex[:10].upper()}"


def _parameters(declared: Payload) -> list[Payload]:
    """A manifest's parameter declarations as the event lists them (name first, every field kept)."""
    return [{"name": name, **spec} for name, spec in (declared.get("properties") or {}).items()]


def function_executed_event(
    callback_id: str,
    inputs: Payload,
    *,
    definition: Payload,
    execution_id: str | None = None,
    bot_access_token: str | None = None,
) -> Payload:
    """A ``function_executed`` event for a custom step, shaped after bolt-python's recorded payloads:
    the function object carries the manifest's definition (parameters as lists), then the inputs, the
    execution id and the short-lived workflow token (``xwfp-``) the step answers with."""
    return {
        "type": "function_executed",
        "function": {
            "id": f"Fn{abs(hash(callback_id)) % 10**9:09d}",
            "callback_id": callback_id,
            "title": definition["title"],
            "description": definition.get("description", ""),
            "type": "app",
            "input_parameters": _parameters(definition.get("input_parameters") or {}),
            "output_parameters": _parameters(definition.get("output_parameters") or {}),
            "app_id": APP_ID,
            "date_created": 1700000000,
            "date_updated": 1700000000,
            "date_deleted": 0,
        },
        "inputs": inputs,
        "function_execution_id": execution_id or fresh_execution_id(),
        "workflow_execution_id": f"Wx{uuid.uuid4().hex[:10].upper()}",
        "event_ts": fresh_ts(),
        "bot_access_token": bot_access_token or f"xwfp-{uuid.uuid4().hex[:24]}",
    }


# --------------------------------------------------------------------------- the sender


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Slack's v0 request signature over the raw body."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Posts Slack-signed requests to ``{base_url}/slack/events``."""

    def __init__(
        self, base_url: str, signing_secret: str, *, timeout: float = 10.0, response_base: str | None = None
    ):
        self.base_url = base_url.rstrip("/")
        self.signing_secret = signing_secret
        self.response_base = response_base or UNREACHABLE_RESPONSE_BASE
        self.client = httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def __enter__(self) -> SlackSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        """The URL Slack posts to."""
        return f"{self.base_url}/slack/events"

    # ----------------------------------------------------------------- signing and raw sending

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The two signature headers for ``body`` (timestamp defaults to now)."""
        ts = int(time.time()) if timestamp is None else int(timestamp)
        return {
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature(self.signing_secret, ts, body),
        }

    def post_raw(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST ``body`` with exactly ``headers`` (no signing); an answer with Block Kit that Slack would
        refuse fails here, in the test that sent the request."""
        response = self.client.post(self.endpoint, content=body, headers=headers)
        if response.headers.get("content-type", "").startswith("application/json") and response.content:
            problems = answer_problems(response.json())
            assert not problems, f"copbot answered with Block Kit that Slack would refuse: {problems}"
        return response

    def post_signed(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
        unsigned: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``body`` signed (or deliberately mis-signed / unsigned / with another timestamp)."""
        sent = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if not unsigned:
            sent.update(self.sign(body, timestamp))
            if bad_signature:
                sent["X-Slack-Signature"] = signature(
                    "wrong-" + self.signing_secret, int(sent["X-Slack-Request-Timestamp"]), body
                )
        sent.update(headers or {})
        return self.post_raw(body, sent)

    _post = post_signed

    # ----------------------------------------------------------------- slash commands and events

    def command_body(
        self,
        command: str,
        text: str = "",
        *,
        team_id: str = "T1",
        user_id: str = "U1",
        channel_id: str = "C1",
        trigger_id: str | None = None,
        response_url: str | None = None,
        **extra: str,
    ) -> bytes:
        """The form-encoded body Slack sends for a slash command."""
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": f"team-{team_id.lower()}",
            "channel_id": channel_id,
            "channel_name": channel_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or f"{self.response_base}command-{next(_counter)}",
            "trigger_id": trigger_id or fresh_trigger_id(),
            **extra,
        }
        return urlencode(fields).encode()

    def command(
        self,
        command: str,
        text: str = "",
        *,
        team_id: str = "T1",
        user_id: str = "U1",
        channel_id: str = "C1",
        trigger_id: str | None = None,
        response_url: str | None = None,
        timestamp: int | None = None,
        bad_signature: bool = False,
        unsigned: bool = False,
        **extra: str,
    ) -> httpx.Response:
        """Send a slash command."""
        body = self.command_body(
            command,
            text,
            team_id=team_id,
            user_id=user_id,
            channel_id=channel_id,
            trigger_id=trigger_id,
            response_url=response_url,
            **extra,
        )
        return self.post_signed(
            body, FORM, timestamp=timestamp, bad_signature=bad_signature, unsigned=unsigned
        )

    def event(
        self,
        event: Payload,
        *,
        team_id: str = "T1",
        event_id: str | None = None,
        event_time: int | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        bad_signature: bool = False,
        unsigned: bool = False,
        installed_team_id: str | None = None,
    ) -> httpx.Response:
        """Send an Events API event (optionally as a retry, or from a Slack Connect channel)."""
        envelope = event_envelope(
            event,
            team_id=team_id,
            event_id=event_id,
            event_time=event_time,
            installed_team_id=installed_team_id,
        )
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(envelope).encode()
        return self.post_signed(
            body, JSON, timestamp=timestamp, bad_signature=bad_signature, unsigned=unsigned, headers=headers
        )

    def url_verification(self, challenge: str) -> httpx.Response:
        """Send the Events API URL verification handshake."""
        body = json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})
        return self.post_signed(body.encode(), JSON)

    # ----------------------------------------------------------------- interactivity

    def interaction(
        self,
        payload: Payload,
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
        unsigned: bool = False,
    ) -> httpx.Response:
        """Send an interactivity payload as ``payload=<json>`` form data."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post_signed(
            body, FORM, timestamp=timestamp, bad_signature=bad_signature, unsigned=unsigned
        )

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        team_id: str = "T1",
        user_id: str = "U1",
        private_metadata: str = "",
        view_id: str | None = None,
        hash: str | None = None,
    ) -> httpx.Response:
        """Submit a modal."""
        return self.interaction(
            view_submission_payload(
                callback_id,
                values,
                team_id=team_id,
                user_id=user_id,
                private_metadata=private_metadata,
                view_id=view_id,
                hash=hash,
            )
        )

    def block_action(
        self,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str = "b",
        team_id: str = "T1",
        user_id: str = "U1",
        channel_id: str = "C1",
        message_ts: str | None = None,
        view: Payload | None = None,
        action_type: str = "button",
        extra_action: Payload | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> httpx.Response:
        """Click a button (or use another interactive element) in a message or a view."""
        response_url = response_url or f"{self.response_base}action-{next(_counter)}"
        return self.interaction(
            block_action_payload(
                action_id,
                value=value,
                block_id=block_id,
                team_id=team_id,
                user_id=user_id,
                channel_id=channel_id,
                message_ts=message_ts,
                view=view,
                action_type=action_type,
                extra_action=extra_action,
                trigger_id=trigger_id,
                response_url=response_url,
            )
        )

    def message_shortcut(
        self,
        callback_id: str,
        *,
        message: Payload,
        team_id: str = "T1",
        user_id: str = "U1",
        channel_id: str = "C1",
        trigger_id: str | None = None,
    ) -> httpx.Response:
        """Use a message shortcut on ``message``."""
        response_url = f"{self.response_base}shortcut-{next(_counter)}"
        return self.interaction(
            message_shortcut_payload(
                callback_id,
                message=message,
                team_id=team_id,
                user_id=user_id,
                channel_id=channel_id,
                trigger_id=trigger_id,
                response_url=response_url,
            )
        )

    def block_suggestion(
        self,
        action_id: str,
        value: str,
        *,
        block_id: str,
        team_id: str = "T1",
        user_id: str = "U1",
        view: Payload | None = None,
    ) -> httpx.Response:
        """Ask for the options of an external_select."""
        return self.interaction(
            block_suggestion_payload(
                action_id, value, block_id=block_id, team_id=team_id, user_id=user_id, view=view
            )
        )
