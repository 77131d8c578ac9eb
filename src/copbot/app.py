"""The Slack app factory: one Bolt App for HTTP and Socket Mode, assembled from the features."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.listener_matcher import ListenerMatcher
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher

from copbot.blockkit import Message, escape, mention
from copbot.communities import blocks as community_blocks
from copbot.communities import service as communities
from copbot.db import is_over_budget, session_scope, time_budget
from copbot.deps import Deps
from copbot.slack.auth import build_authorize
from copbot.slack.client import SlackClient, guard
from copbot.slack.commands import TOPICS, CopRouter, Subcommand, Topic
from copbot.slack.errors import handle_error
from copbot.slack.events import acknowledge_unhandled_event
from copbot.slack.lanes import LaneRunner, refuse_after_ack
from copbot.slack.limits import input_limits_middleware
from copbot.slack.middleware import inbox_middleware
from copbot.slack.payloads import SubcommandRequest

if TYPE_CHECKING:  # OAuth mode's modules load only when it is on (slack_sdk's SQLAlchemy store, greenlet)
    from copbot.oauth.stores import InstallationStore, StateStore

log = logging.getLogger(__name__)

RECEIVED_AT = "copbot_received_at"  # a request's arrival (time.monotonic), set by the HTTP server


def create_app(deps: Deps, *, socket_mode: bool = False, installations: Installations | None = None) -> App:
    """Build the Bolt app: fast acks (`process_before_response`), slow work after them, every feature.

    With `installations` (OAuth mode) tokens come from the installation store and Bolt serves the
    install pages; otherwise from the single-workspace token lookup.
    """
    settings = deps.settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if installations is None:
        authorization: dict[str, Any] = {
            "authorize": build_authorize(
                deps.tokens, api_url=settings.slack_api_url, timeout=settings.slack_timeout
            )
        }
    else:
        from copbot.oauth.flow import installation_authorize, oauth_settings

        authorization = {
            "oauth_settings": oauth_settings(settings, installations.store, installations.states),
            "authorize": installation_authorize(settings, installations.store),
        }
    lanes = LaneRunner.sized(settings.listener_threads)
    app = CopbotApp(
        ack_budget=settings.ack_budget_seconds,
        signing_secret=secret or "socket-mode-needs-no-signing-secret",
        client=SlackClient(base_url=settings.slack_api_url, timeout=settings.slack_timeout),  # type: ignore[arg-type]  # slack-sdk annotates int; a float works
        **authorization,
        # Bolt's default polls for ack() every 10 ms; running the ack function inline answers in ~1 ms,
        # and slow work goes to lazy listeners in bounded lanes (copbot.slack.lanes), modals first.
        process_before_response=True,
        listener_executor=lanes.background.executor,
        request_verification_enabled=not socket_mode,
        url_verification_enabled=True,
        raise_error_for_unhandled_request=True,  # so unhandled events reach _on_error and get a 200
    )
    lanes.install(app)
    app.use(input_limits_middleware())
    app.use(inbox_middleware(deps))
    app.error(lambda error, body, response, context: _on_error(deps, error, body, response, context))
    router = CopRouter()
    router.add(
        Subcommand(
            "help",
            "/cop help [topic]",
            "what copbot can do",
            on_ack=lambda request: help_reply(deps, router, request),
            listed=False,
            topic=Topic.YOU,
        )
    )
    # `/cop` first: Bolt tries listeners in order, each try costs a few microseconds, and slash
    # commands are the requests people wait on. The router reads its subcommands when called.
    router.register(app, fallback=lambda request: help_reply(deps, router, request, unknown=True))
    for feature in deps.features:
        feature.register(app, deps, router)
    if installations is not None:
        from copbot.oauth import handlers as oauth_handlers

        oauth_handlers.register(app, deps, installations.store)
    quicken_matchers(app)
    return app


class BodyMatcher(ListenerMatcher):
    """One of Bolt's built-in matchers (command name, event type, action id...), called with the body.

    Bolt tries each listener in turn until one matches, and before each try builds every argument a
    listener could ask for: with copbot's ~55 listeners that was about half a millisecond per request,
    more than the request's own SQL. The built-in matchers only read the body.
    """

    def __init__(self, func: Callable[..., Any]):
        self.func = func

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        """Tell whether the request is the listener's, from its body alone."""
        return bool(self.func(body=req.body))


def quicken_matchers(app: App) -> None:
    """Swap each listener's built-in matchers that only read the body for `BodyMatcher`s."""
    for listener in app._listeners:
        listener.matchers = [
            BodyMatcher(m.func) if type(m) is BuiltinListenerMatcher and m.arg_names == ["body"] else m
            for m in listener.matchers
        ]


class CopbotApp(App):
    """Bolt's App whose every dispatch, the ack path, bounds its database work (`time_budget`): past the
    budget the request is answered "try again" and stores nothing, so every ack leaves within Slack's 3 s
    whatever the database does. Work after the ack runs on the listener pool, outside the budget."""

    def __init__(self, *, ack_budget: float, **kwargs: Any):
        super().__init__(**kwargs)
        self._ack_budget = ack_budget

    def _init_context(self, req: BoltRequest) -> None:
        super()._init_context(req)
        guard(req.context.client)  # Bolt builds a plain WebClient per request: give it the write-lock check

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        """Dispatch one request within the ack budget, counted from its arrival when the server says."""
        with time_budget(self._ack_budget, since=req.context.get(RECEIVED_AT)):
            return super().dispatch(req)


@dataclass(frozen=True)
class Installations:
    """OAuth mode's stores."""

    store: InstallationStore
    states: StateStore


def _on_error(
    deps: Deps, error: Exception, body: dict[str, Any], response: BoltResponse | None, context: BoltContext
) -> None:
    if isinstance(error, BoltUnhandledRequestError):
        if body.get("type") == "event_callback" and response is not None:
            acknowledge_unhandled_event(deps, body, response)
        return
    if is_over_budget(error):  # "try again" was the answer: nothing was stored, nothing follows
        refuse_after_ack(context)
    handle_error(error, body, response)


def help_reply(
    deps: Deps, router: CopRouter, request: SubcommandRequest, *, unknown: bool = False
) -> Message:
    """`/cop help [topic]` (and the answer to an unknown subcommand): grouped by what people want to
    do; the leads' commands only for the channel community's leads."""
    command = request.command
    with session_scope(deps.sessions) as session:
        community = communities.community_for_channel(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        leads = communities.leads(session, community=community) if community else []
    shown = [t for t in Topic if t != Topic.LEAD or command.user_id in leads]
    topics = {t: _help_topic(router, t) for t in shown}
    asked = request.args.strip() if not unknown else ""
    if asked:
        topic = router.topic_for(asked)
        if topic in topics:
            return community_blocks.help_topic(topics[topic])
        if topic != Topic.LEAD:
            intro = f"There is no help topic `{escape(asked[:40])}`. Here is what I can do:"
        elif leads:
            intro = f"`{escape(asked[:40])}` is for this community's leads: {', '.join(map(mention, leads))}."
        else:
            intro = "That is for leads: `/cop setup` in a channel makes you the lead of a new community."
    elif unknown and request.name:
        intro = f"I don't know `/cop {escape(request.name[:40])}`. Here is what I can do:"
    else:
        intro = None
    footer = None if community else "No community lives here yet: `/cop setup` makes this channel its home."
    return community_blocks.help_overview(list(topics.values()), intro=intro, footer=footer)


def _help_topic(router: CopRouter, topic: Topic) -> community_blocks.HelpTopic:
    emoji, title, blurb = TOPICS[topic]
    return community_blocks.HelpTopic(topic.value, emoji, title, blurb, router.entries(topic))
