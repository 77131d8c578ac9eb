"""The manifests declare the custom steps exactly as copbot listens for them, in Slack's schema's shape."""

from __future__ import annotations

import json

import pytest
import yaml
from slack_bolt import App
from slack_bolt.request import BoltRequest

from copbot import manifest
from copbot.config import Settings
from copbot.native.ids import Function
from copbot.runtime import Runtime
from tests.fakes.slack_client import event_envelope, function_executed_event

PARAMETER_TYPES = {"string", "slack#/types/user_id", "slack#/types/channel_id", "slack#/types/date"}


@pytest.fixture(scope="module")
def app() -> App:
    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-x", slack_signing_secret="s", database_url="sqlite://"
    )
    return Runtime(settings).app


def _declared(socket_mode: bool) -> dict:
    return yaml.safe_load(manifest.render(socket_mode=socket_mode))


@pytest.mark.parametrize("socket_mode", [False, True])
def test_every_step_is_declared_and_listened_for(app: App, socket_mode: bool) -> None:
    declared = _declared(socket_mode)
    assert set(declared["functions"]) == {f.value for f in Function}
    for callback_id, definition in declared["functions"].items():
        event = function_executed_event(callback_id, {}, definition=definition)
        request = BoltRequest(body=json.dumps(event_envelope(event)), mode="socket_mode")
        assert any(listener.matches(req=request, resp=None) for listener in app._listeners), callback_id


@pytest.mark.parametrize("socket_mode", [False, True])
def test_steps_follow_slacks_manifest_schema(socket_mode: bool) -> None:
    declared = _declared(socket_mode)
    settings = declared["settings"]
    assert "function_executed" in settings["event_subscriptions"]["bot_events"]
    assert settings["org_deploy_enabled"] is True  # Slack lets only org-ready apps declare steps
    assert settings["function_runtime"] == "remote"
    for definition in declared["functions"].values():
        assert set(definition) <= {"title", "description", "input_parameters", "output_parameters"}
        assert definition["title"] and definition["description"]
        for side in ("input_parameters", "output_parameters"):
            parameters = definition[side]
            assert set(parameters) <= {"properties", "required"}
            for name, spec in parameters["properties"].items():
                assert spec["type"] in PARAMETER_TYPES and spec["name"] == name and spec["title"]
            required = parameters.get("required", [])
            assert set(required) <= set(parameters["properties"])
            assert all(parameters["properties"][n]["is_required"] for n in required)
