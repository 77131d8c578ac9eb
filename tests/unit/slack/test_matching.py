"""Bolt's built-in matchers run on the body alone: the same listener answers, for a fraction of the CPU."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher

from copbot.app import BodyMatcher
from copbot.runtime import Runtime
from tests.fakes.slack_client import block_action_payload, event_envelope, view_submission_payload


def _first_match(runtime: Runtime, request: BoltRequest) -> int | None:
    response = BoltResponse(status=200)
    for index, listener in enumerate(runtime.app._listeners):
        if listener.matches(req=request, resp=response):
            return index
    return None


def _interaction(payload: dict) -> BoltRequest:
    return BoltRequest(body=urlencode({"payload": json.dumps(payload)}))


def test_the_same_listener_answers_as_with_bolts_own_matchers(runtime: Runtime) -> None:
    form = {"command": "/cop", "text": "help", "team_id": "T1", "user_id": "U1", "channel_id": "C1"}
    requests = [
        BoltRequest(body=urlencode(form), headers={"content-type": "application/x-www-form-urlencoded"}),
        BoltRequest(body=urlencode({**form, "command": "/nominate", "text": ""})),
        BoltRequest(
            body=json.dumps(event_envelope({"type": "app_home_opened", "user": "U1", "tab": "home"})),
            headers={"content-type": "application/json"},
        ),
        _interaction(block_action_payload("ritual_rsvp_going", value="1")),
        _interaction(view_submission_payload("community_setup", {})),
    ]
    quick = [_first_match(runtime, request) for request in requests]
    listeners = runtime.app._listeners
    quickened = sum(isinstance(m, BodyMatcher) for listener in listeners for m in listener.matchers)
    assert quickened >= len(listeners)
    for listener in listeners:  # back to Bolt's own
        listener.matchers = [
            BuiltinListenerMatcher(func=m.func) if isinstance(m, BodyMatcher) else m
            for m in listener.matchers
        ]
    assert quick == [_first_match(runtime, request) for request in requests]
    assert None not in quick
