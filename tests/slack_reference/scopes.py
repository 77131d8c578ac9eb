"""The bot scopes each Web API method copbot calls needs, as Slack documents them.

Transcribed from https://docs.slack.dev/reference/methods/<method> ("Required scopes", bot token) and the
scope pages https://docs.slack.dev/reference/scopes/<scope> ("Compatible API methods"). Methods that read
or open a conversation need the scope of that conversation's kind: copbot reads public and private
channels, DMs (the outbox reconciles a DM it may have sent; "Capture as review" reads a DM thread) and
group DMs, so it needs all of them.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from pathlib import Path

from slack_sdk import WebClient

# Conversation kinds as Slack names them in `types=` and on the scope pages.
PUBLIC, PRIVATE, IM, MPIM = "public_channel", "private_channel", "im", "mpim"
CONVERSATION_KINDS = (PUBLIC, PRIVATE, IM, MPIM)

ANY = None  # no scope: any valid token may call the method

# method -> the scope it needs: one scope, ANY, or one scope per conversation kind.
METHOD_SCOPES: dict[str, str | dict[str, str] | None] = {
    "auth.test": ANY,
    "oauth.v2.access": ANY,  # client id + secret, no token
    "apps.connections.open": ANY,  # app-level token with connections:write (not a bot scope)
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": ANY,
    "conversations.open": "im:write",  # bot tokens open DMs with im:write (mpim:write is user-only)
    "conversations.join": "channels:join",
    "conversations.history": {
        PUBLIC: "channels:history",
        PRIVATE: "groups:history",
        IM: "im:history",
        MPIM: "mpim:history",
    },
    "conversations.replies": {
        PUBLIC: "channels:history",
        PRIVATE: "groups:history",
        IM: "im:history",
        MPIM: "mpim:history",
    },
    "conversations.info": {
        PUBLIC: "channels:read",
        PRIVATE: "groups:read",
        IM: "im:read",
        MPIM: "mpim:read",
    },
    "views.open": ANY,
    "views.push": ANY,
    "views.update": ANY,
    "views.publish": ANY,
    "users.info": "users:read",
    "users.profile.get": "users.profile:read",
    "reactions.get": "reactions:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "usergroups.list": "usergroups:read",
    "usergroups.create": "usergroups:write",
    "usergroups.update": "usergroups:write",
    "usergroups.users.update": "usergroups:write",
    "usergroups.enable": "usergroups:write",
    "usergroups.disable": "usergroups:write",
    "canvases.sections.lookup": "canvases:read",
    "canvases.create": "canvases:write",
    "canvases.edit": "canvases:write",
    "conversations.canvases.create": "canvases:write",
    "functions.completeSuccess": ANY,  # the function execution token
    "functions.completeError": ANY,
}

# Methods that copbot may call with a conversation of any kind (readers of threads and histories).
READ_ANY_CONVERSATION = ("conversations.history", "conversations.replies")


# Methods copbot calls on its communities' channels only (public or private), never on DMs.
CHANNELS_ONLY = {"conversations.info": (PUBLIC, PRIVATE)}


def needed_scopes(method: str, kinds: Iterable[str] | None = None) -> set[str]:
    """The scopes `method` needs for conversations of `kinds` (KeyError: a method not in the table)."""
    kinds = kinds if kinds is not None else CHANNELS_ONLY.get(method, CONVERSATION_KINDS)
    need = METHOD_SCOPES[method]
    if need is None:
        return set()
    if isinstance(need, str):
        return {need}
    return {need[kind] for kind in kinds}


def conversation_kind(channel: str, *, mpim: bool = False) -> str:
    """The kind of a conversation from its id, as the fake Slack names its ids."""
    if channel[:1] == "D":
        return IM
    if channel[:1] == "G":
        return MPIM if mpim else PRIVATE
    return PUBLIC


# --------------------------------------------------------------------------- what the code calls


def web_client_methods() -> dict[str, set[str]]:
    """Each WebClient method name -> the Web API methods it calls (composites like files_upload_v2 too)."""
    tree = ast.parse(inspect.getsource(inspect.getmodule(WebClient)))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "WebClient")
    direct: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}
    for function in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
        direct[function.name], calls[function.name] = set(), set()
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr == "api_call" and node.args and isinstance(node.args[0], ast.Constant):
                direct[function.name].add(str(node.args[0].value))
            elif isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
                calls[function.name].add(node.func.attr)

    def resolve(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found = set(direct.get(name, ()))
        for callee in calls.get(name, set()) - seen - {name}:
            found |= resolve(callee, seen | {name})
        return found

    return {name: resolve(name) for name in direct if not name.startswith("_")}


def methods_called_in(root: Path) -> dict[str, set[str]]:
    """Web API method -> the files under `root` that call it through a WebClient method."""
    by_name = {name: apis for name, apis in web_client_methods().items() if apis and name != "api_call"}
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            apis = by_name.get(node.func.attr, set())
            if node.func.attr == "api_call" and node.args and isinstance(node.args[0], ast.Constant):
                apis = {str(node.args[0].value)}
            for api in apis:
                found.setdefault(api, set()).add(str(path.relative_to(root)))
    return found


# Events -> the bot scope a subscription needs (https://docs.slack.dev/reference/events/<event>).
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_uninstalled": (),
    "tokens_revoked": (),
    "app_home_opened": (),
    "team_access_granted": (),
    "team_access_revoked": (),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    # one of these per kind of channel the bot hears joins in
    "member_joined_channel": ("channels:read", "groups:read"),
    "function_executed": (),
}
