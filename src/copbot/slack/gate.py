"""The HTTP edge's checks: a request reaches Bolt's listeners only when it is signed and shaped as Slack
sends it.

Bolt verifies signatures too, but it parses the body first and trusts its shape: a signed body that is not
UTF-8, a `payload=` that is not a JSON object or an events body of `[]` used to end in an HTTP 500 from
outside Bolt. Here such a request gets a 4xx, one log line and no effect; a bad signature (a timestamp
that is not an integer included) gets the 401 every other bad signature gets. The body is parsed once,
by Bolt (`BoltRequest`); `shape` judges what it parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("copbot.requests")

_INTEGER = re.compile(r"[0-9]{1,12}")
MAX_SKEW_SECONDS = 300  # Slack's rule: older (or newer) signatures are replays
# Interaction payloads whose listeners read a part that must be there, and its type.
_REQUIRED_PARTS: dict[str, tuple[str, type]] = {
    "block_actions": ("actions", list),
    "view_submission": ("view", dict),
    "view_closed": ("view", dict),
    "block_suggestion": ("action_id", str),
    "message_action": ("message", dict),
    "event_callback": ("event", dict),
}


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused, with the HTTP status it gets."""

    status: int
    reason: str


def check(raw: bytes, headers: Mapping[str, str], signing_secret: str | None) -> Refusal | None:
    """None for a signed UTF-8 body (no `signing_secret`: nothing to verify); else why it is refused."""
    if signing_secret:
        refusal = _signature(raw, headers, signing_secret)
        if refusal is not None:
            return refusal
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "the body is not UTF-8")
    return None


# What BoltRequest raises on a body that is not a JSON object or a form with a JSON-object `payload`.
PARSE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError)
NOT_PARSED = Refusal(400, "the body is not a JSON object, nor a form with a JSON-object `payload`")


def refuse(refusal: Refusal) -> None:
    """The one log line of a refused request (never its body: it may hold what people wrote)."""
    log.warning("refused a request from Slack with HTTP %d: %s", refusal.status, refusal.reason)


def _signature(raw: bytes, headers: Mapping[str, str], secret: str) -> Refusal | None:
    """Slack's v0 signature over the raw bytes (slack-sdk's verifier decodes them as UTF-8 first and
    raises on anything else, so it cannot judge the bodies this gate exists for)."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        return Refusal(401, "the signature headers are missing")
    if not _INTEGER.fullmatch(timestamp):
        return Refusal(401, "the signature timestamp is not an integer")
    if abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return Refusal(401, "the signature is too old or from the future")
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return Refusal(401, "the signature is wrong")
    return None


def shape(body: Any) -> Refusal | None:
    """A parsed request body: an object whose parts the listeners read are there, with the right types."""
    if not isinstance(body, dict):
        return NOT_PARSED
    kind = body.get("type")
    if kind is not None and not isinstance(kind, str):
        return Refusal(400, "the body's `type` is not a string")
    required = _REQUIRED_PARTS.get(kind or "")
    if required is None:
        return None
    part, expected = required
    value = body.get(part)
    if not isinstance(value, expected) or (expected is list and not value):
        return Refusal(400, f"a {kind} payload without `{part}`")
    if kind == "block_actions" and not all(isinstance(action, dict) for action in body["actions"]):
        return Refusal(400, "a block_actions payload whose actions are not objects")
    return None
