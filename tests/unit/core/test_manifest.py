"""The manifests declare exactly what copbot listens for, and `copbot manifest` fills in the URL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from slack_bolt import App
from slack_bolt.request import BoltRequest

from copbot import manifest
from copbot.config import Settings
from copbot.features import FEATURES
from copbot.runtime import Runtime
from copbot.slack.ids import Command

# Slack's app manifest schema (slackapi/manifest-schema), vendored with its origin in tests/slack_reference.
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "slack_reference" / "slack-manifest.schema.json").read_text(encoding="utf-8")
)
VARIANTS = {
    "http": {"url": "https://bot.example.org"},
    "socket-mode": {"socket_mode": True},
    "http-org": {"url": "https://bot.example.org", "org": True},
    "socket-mode-org": {"socket_mode": True, "org": True},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_manifest_passes_slacks_schema(variant: str) -> None:
    declared = yaml.safe_load(manifest.render(**VARIANTS[variant]))
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = validator.iter_errors(declared)
    problems = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors]
    assert problems == []


def test_the_schema_catches_what_slack_refused() -> None:
    """The name Slack refused (30 characters > 24) fails here too, so the test above can fail."""
    declared = yaml.safe_load(manifest.render())
    declared["features"]["shortcuts"][0]["name"] = "Capture as after-action review"
    with pytest.raises(jsonschema.ValidationError, match="too long"):
        jsonschema.validate(declared, SCHEMA)


def test_org_variant_only_switches_on_org_deploy() -> None:
    plain, org = (yaml.safe_load(manifest.render(org=flag)) for flag in (False, True))
    assert org["settings"]["org_deploy_enabled"] is True
    plain["settings"]["org_deploy_enabled"] = True
    assert org == plain


def test_shortcut_names_fit_and_keep_their_callback_ids() -> None:
    declared = yaml.safe_load(manifest.render())
    names = {s["callback_id"]: s["name"] for s in declared["features"]["shortcuts"]}
    assert names == {"capture_review": "Capture as review", "recognize_message": "Recognize this"}


@pytest.fixture(scope="module")
def app() -> App:
    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-x", slack_signing_secret="s", database_url="sqlite://"
    )
    return Runtime(settings).app


def _registry_ids() -> set[str]:
    """Every id the core and the features declare (each feature lists its enums in `Feature.ids`)."""
    return {member.value for feature in FEATURES for ids in feature.ids for member in ids} | {
        c.value for c in Command
    }


def test_ids_are_unique_across_features() -> None:
    values = [member.value for feature in FEATURES for ids in feature.ids for member in ids]
    assert len(values) == len(set(values)), sorted(v for v in set(values) if values.count(v) > 1)


@pytest.mark.parametrize("socket_mode", [False, True])
def test_manifest_commands_match_listeners(app: App, socket_mode: bool) -> None:
    declared = yaml.safe_load(manifest.render(socket_mode=socket_mode))
    commands = {c["command"] for c in declared["features"]["slash_commands"]}
    assert commands <= _registry_ids()
    for command in commands:
        assert _has_command_listener(app, command), f"{command} is declared but nothing listens for it"
    shortcuts = {s["callback_id"] for s in declared["features"].get("shortcuts", [])}
    assert shortcuts <= _registry_ids()


def _has_command_listener(app: App, command: str) -> bool:
    body = f"command={command.replace('/', '%2F')}&text=&team_id=T1&user_id=U1&channel_id=C1"
    request = BoltRequest(body=body, mode="socket_mode")
    return any(listener.matches(req=request, resp=None) for listener in app._listeners)


def test_every_command_enum_member_with_a_listener_is_declared(app: App) -> None:
    declared = yaml.safe_load(manifest.render())
    commands = {c["command"] for c in declared["features"]["slash_commands"]}
    for command in (value for value in _registry_ids() if value.startswith("/")):
        if _has_command_listener(app, command):
            assert command in commands


def test_http_manifest_gets_the_url() -> None:
    text = manifest.render(url="https://bot.example.org/")
    assert manifest.PLACEHOLDER not in text
    declared = yaml.safe_load(text)
    assert (
        declared["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.org/slack/events"
    )
    assert declared["settings"]["interactivity"]["request_url"] == "https://bot.example.org/slack/events"
    assert all(
        c["url"] == "https://bot.example.org/slack/events" for c in declared["features"]["slash_commands"]
    )
    assert declared["features"]["app_home"]["home_tab_enabled"] is True


def test_socket_mode_manifest_has_no_urls() -> None:
    text = manifest.render(socket_mode=True)
    declared = yaml.safe_load(text)
    assert declared["settings"]["socket_mode_enabled"] is True
    assert not re.search(r"https?://", text.split("\n", 3)[-1])
