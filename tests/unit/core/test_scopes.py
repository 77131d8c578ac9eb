"""Every Web API method copbot calls and every event it subscribes to is allowed by the manifest's scopes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import copbot
from copbot import manifest
from tests.slack_reference.scopes import EVENT_SCOPES, METHOD_SCOPES, methods_called_in, needed_scopes

SOURCE = Path(copbot.__file__).parent


def _declared(socket_mode: bool) -> dict:
    return yaml.safe_load(manifest.render(socket_mode=socket_mode))


def test_the_scan_finds_the_calls_we_know_of() -> None:
    called = methods_called_in(SOURCE)
    # the outbox's reconciliation and the capture shortcut: the reads the issue found unscoped
    assert "outbox/sender.py" in called["conversations.history"]
    assert "reviews/handlers.py" in called["conversations.replies"]
    assert {"chat.postMessage", "views.open", "files.completeUploadExternal"} <= called.keys()


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_every_called_method_is_allowed_by_the_bot_scopes(socket_mode: bool) -> None:
    scopes = set(_declared(socket_mode)["oauth_config"]["scopes"]["bot"])
    called = methods_called_in(SOURCE)
    unknown = sorted(set(called) - METHOD_SCOPES.keys())
    assert not unknown, f"add these methods to tests/slack_reference/scopes.py: {unknown} ({called})"
    missing = {
        method: sorted(needed_scopes(method) - scopes) for method in called if needed_scopes(method) - scopes
    }
    assert not missing, f"the manifest lacks scopes for: {missing}"


def test_dm_and_group_dm_history_are_declared() -> None:
    scopes = set(_declared(False)["oauth_config"]["scopes"]["bot"])
    assert {"im:history", "mpim:history"} <= scopes


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_every_subscribed_event_is_allowed_by_the_bot_scopes(socket_mode: bool) -> None:
    declared = _declared(socket_mode)
    scopes = set(declared["oauth_config"]["scopes"]["bot"])
    for event in declared["settings"]["event_subscriptions"]["bot_events"]:
        assert event in EVENT_SCOPES, f"add {event} to EVENT_SCOPES in tests/slack_reference/scopes.py"
        assert set(EVENT_SCOPES[event]) <= scopes, f"{event} needs {EVENT_SCOPES[event]}"


def test_no_scope_is_declared_that_nothing_uses() -> None:
    """Least privilege: each declared bot scope is needed by a called method, an event or a command."""
    declared = _declared(False)
    scopes = set(declared["oauth_config"]["scopes"]["bot"])
    used = {"commands"}  # slash commands and shortcuts
    for method in methods_called_in(SOURCE):
        used |= needed_scopes(method)
    for event in declared["settings"]["event_subscriptions"]["bot_events"]:
        used |= set(EVENT_SCOPES.get(event, ()))
    assert scopes - used == set()
