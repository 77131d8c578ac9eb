"""Slack listeners for people: roles, teams, settings, onboarding on channel join, `/cop ask`, forget-me.

Anonymous questions: the asker's user id is turned into a keyed hash at the edge and never stored,
logged, or sent anywhere; only the hash reaches the service.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from copbot import privacy
from copbot.blockkit import escape, mention
from copbot.clock import now
from copbot.communities.models import Community, Role
from copbot.communities.service import community_for_channel
from copbot.config import Settings
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.errors import CopbotError, InvalidInput
from copbot.feature import Person
from copbot.people import blocks, flows, service
from copbot.people.ids import PeopleAction, PeopleBlock, PeopleView
from copbot.people.models import Question
from copbot.reviews import search
from copbot.scheduling.jobs import Job, JobContext
from copbot.slack.client import SlackClient
from copbot.slack.commands import CopRouter, Reply, Subcommand, Topic
from copbot.slack.errors import user_message
from copbot.slack.events import on_payload
from copbot.slack.listeners import acknowledge, answering, modal_errors, tell
from copbot.slack.payloads import (
    BlockActions,
    MemberJoinedChannelEvent,
    SubcommandRequest,
    ViewSubmission,
    state_value,
)

log = logging.getLogger(__name__)

SETTINGS = {
    "team-field": ("/cop team-field <field id>|off", "take members' teams from this Slack profile field"),
    "checkin-days": ("/cop checkin-days <days>", "days from a welcome to the mentor's check-in (14)"),
    "ask-limit": ("/cop ask-limit <n>", "anonymous questions a person may ask a day (5)"),
    "retention": ("/cop retention <months>|off", "delete raw records older than this"),
}


def hash_key_for(settings: Settings) -> bytes:
    """The anonymous-author HMAC key: COPBOT_HASH_KEY, else derived from the signing secret."""

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    return service.hash_key(
        hash_key=secret(settings.hash_key),
        signing_secret=secret(settings.slack_signing_secret),
        bot_token=secret(settings.slack_bot_token),
    )


def register(app: App, deps: Deps, router: CopRouter) -> None:
    """Register the people listeners and `/cop` subcommands."""
    _register_roles(deps, router)
    _register_teams(deps, router)
    _register_questions(app, deps, router)
    _register_privacy(app, deps, router)
    on_payload(
        app,
        deps,
        MemberJoinedChannelEvent,
        on_member_joined,
        prepare=lambda payload: profile_of_joiner(deps, payload),
    )


def _ack_step(
    deps: Deps, work: Callable[[Session, SubcommandRequest], Reply]
) -> Callable[[SubcommandRequest], Reply]:
    """Run `work` in a unit of work before the ack, and wake the outbox after the commit."""

    def step(request: SubcommandRequest) -> Reply:
        with session_scope(deps.sessions) as session:
            reply = work(session, request)
        deps.outbox.notify()
        return reply

    return step


# --- roles -----------------------------------------------------------------------------------------


def _register_roles(deps: Deps, router: CopRouter) -> None:
    router.add(
        Subcommand(
            "role",
            "/cop role @someone <role>|-<role>",
            "give or remove a role",
            on_ack=_ack_step(deps, change_role),
            topic=Topic.LEAD,
        )
    )
    router.add(
        Subcommand(
            "roles", "/cop roles", "who holds which role", on_ack=_ack_step(deps, list_roles), topic=Topic.YOU
        )
    )
    router.add(
        Subcommand(
            "mentor",
            "/cop mentor on|off",
            "welcome newcomers as their mentor, or stop",
            on_ack=_ack_step(deps, partial(opt_in, role=Role.MENTOR)),
            after_ack=lambda request, client: refresh_profile(deps, request, client),
            topic=Topic.LEARN,
        )
    )


def change_role(session: Session, request: SubcommandRequest) -> Reply:
    """Answer `/cop role @user ROLE` and `/cop role @user -ROLE`."""
    words = request.args.split()
    if len(words) != 2:
        return "Usage: `/cop role @someone ROLE` to give a role, `/cop role @someone -ROLE` to remove it."
    target = service.parse_user(words[0])
    grant = not words[1].startswith("-")
    role = service.parse_role(words[1].lstrip("-"))
    command = request.command
    _, changed = service.change_role(
        session,
        team_id=command.team_id,
        channel_id=command.channel_id,
        actor_id=command.user_id,
        target_id=target,
        role=role,
        grant=grant,
    )
    return blocks.role_changed(target, role, grant=grant, changed=changed)


def list_roles(session: Session, request: SubcommandRequest) -> Reply:
    """Answer `/cop roles`."""
    command = request.command
    community, held = service.role_holders(session, team_id=command.team_id, channel_id=command.channel_id)
    return blocks.roles_message(community, held)


def opt_in(session: Session, request: SubcommandRequest, role: Role) -> Reply:
    """Answer `/cop mentor on|off` (`/cop facilitate on|off` is the rotation's: see rituals)."""
    word = request.args.lower()
    if word not in ("on", "off"):
        return f"Usage: `/cop {request.name} on` or `/cop {request.name} off`."
    command = request.command
    _, changed = service.opt_in(
        session,
        team_id=command.team_id,
        channel_id=command.channel_id,
        user_id=command.user_id,
        role=role,
        on=word == "on",
    )
    return blocks.opt_in_changed(role, on=word == "on", changed=changed)


# --- teams and settings ----------------------------------------------------------------------------


def _register_teams(deps: Deps, router: CopRouter) -> None:
    router.add(
        Subcommand(
            "team",
            "/cop team [@someone] <name>",
            "your team (a lead can set someone's)",
            on_ack=_ack_step(deps, set_team),
            topic=Topic.YOU,
        )
    )
    for name, (usage, summary) in SETTINGS.items():
        router.add(
            Subcommand(
                name,
                usage,
                summary,
                on_ack=_ack_step(deps, partial(change_setting, name=name)),
                topic=Topic.LEAD,
            )
        )


def set_team(session: Session, request: SubcommandRequest) -> Reply:
    """Answer `/cop team NAME` and `/cop team @user NAME`."""
    first, _, rest = request.args.partition(" ")
    command = request.command
    target = command.user_id
    if first.startswith(("<@", "@")):
        target, name = service.parse_user(first), rest
    else:
        name = request.args
    _, profile = service.set_team(
        session,
        team_id=command.team_id,
        channel_id=command.channel_id,
        actor_id=command.user_id,
        target_id=target,
        name=name,
    )
    who = "Your" if target == command.user_id else f"{mention(target)}'s"
    shown = escape(profile.team) if profile.team else "not set"
    note = " (from the Slack profile field, which wins)" if profile.profile_team else ""
    return f":white_check_mark: {who} team: *{shown}*{note}."


def change_setting(session: Session, request: SubcommandRequest, name: str) -> Reply:
    """Answer the lead's workspace settings commands."""
    command = request.command
    if not request.args:
        return f"Usage: `{SETTINGS[name][0]}`."
    settings = service.change_setting(
        session,
        team_id=command.team_id,
        channel_id=command.channel_id,
        user_id=command.user_id,
        name=name,
        value=request.args,
    )
    return blocks.settings_message(settings)


# --- onboarding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlackProfile:
    """What users.info (and users.profile.get) tell about a person."""

    is_bot: bool
    tz_offset: int | None
    team: str | None


def fetch_profile(
    deps: Deps, *, team_id: str, user_id: str, team_field_id: str | None, client: WebClient | None = None
) -> SlackProfile:
    """Ask Slack who a person is: bot or not, their time zone, their team field."""
    client = client or SlackClient(
        token=deps.tokens.bot_token(team_id),
        base_url=deps.settings.slack_api_url,
        timeout=deps.settings.slack_timeout,  # type: ignore[arg-type]  # slack-sdk annotates int; a float works
    )
    user = client.users_info(user=user_id)["user"]
    is_bot = bool(user.get("is_bot") or user.get("is_app_user")) or user_id == "USLACKBOT"
    team = None
    if team_field_id and not is_bot:
        fields = client.users_profile_get(user=user_id)["profile"].get("fields") or {}
        team = (fields.get(team_field_id) or {}).get("value")
    return SlackProfile(is_bot=is_bot, tz_offset=user.get("tz_offset"), team=team)


def _profile_before_writing(
    deps: Deps, *, team_id: str, channel_id: str, user_id: str, client: WebClient | None = None
) -> SlackProfile | None:
    """Ask Slack about a member of a community's channel, outside any transaction (a slow Slack must
    not hold the database); None when the channel has no community or the id is no user's."""
    with session_scope(deps.sessions) as session:  # reads only
        if community_for_channel(session, team_id=team_id, channel_id=channel_id) is None:
            return None
        if not service.is_user_id(user_id):
            log.warning("a member event without a user id in %s", channel_id)
            return None
        field_id = service.team_field_id(session, team_id=team_id)
    return fetch_profile(deps, team_id=team_id, user_id=user_id, team_field_id=field_id, client=client)


def _record_profile(session: Session, *, team_id: str, user_id: str, found: SlackProfile) -> None:
    service.record_slack_profile(
        session,
        team_id=team_id,
        user_id=user_id,
        is_bot=found.is_bot,
        tz_offset=found.tz_offset,
        profile_team=found.team,
        at=now(),
    )


def _joiner(payload: MemberJoinedChannelEvent) -> tuple[str, str, str]:
    return payload.team_id, payload.event.channel, payload.event.user


def profile_of_joiner(deps: Deps, payload: MemberJoinedChannelEvent) -> SlackProfile | None:
    """Before `member_joined_channel`'s transaction: who joined, as Slack tells."""
    team_id, channel_id, user_id = _joiner(payload)
    return _profile_before_writing(deps, team_id=team_id, channel_id=channel_id, user_id=user_id)


def on_member_joined(session: Session, payload: MemberJoinedChannelEvent, found: SlackProfile | None) -> None:
    """Welcome a person who joined a community's channel, with a mentor; bots and re-joins are skipped."""
    team_id, channel_id, user_id = _joiner(payload)
    if found is None or community_for_channel(session, team_id=team_id, channel_id=channel_id) is None:
        return
    _record_profile(session, team_id=team_id, user_id=user_id, found=found)
    if found.is_bot:
        log.info("a bot joined %s: no welcome", channel_id)
        return
    onboarding = flows.welcome(session, team_id=team_id, channel_id=channel_id, user_id=user_id, at=now())
    if onboarding is not None:
        log.info(
            "onboarding %s started in %s (mentor: %s)", onboarding.id, channel_id, bool(onboarding.mentor_id)
        )


def refresh_profile(deps: Deps, request: SubcommandRequest, client: WebClient) -> None:
    """After `/cop mentor on` and friends: learn the member's time zone and team for pairing."""
    command = request.command
    ids = {"team_id": command.team_id, "user_id": command.user_id}
    found = _profile_before_writing(deps, channel_id=command.channel_id, client=client, **ids)
    if found is not None:
        with session_scope(deps.sessions) as session:
            _record_profile(session, found=found, **ids)


def send_checkins(ctx: JobContext) -> None:
    """Owe the check-in DMs of every onboarding due at `ctx.at`; each is claimed once."""
    with session_scope(ctx.deps.sessions) as session:
        sent = sum(
            flows.check_in(session, onboarding=o, at=ctx.at) for o in service.due_checkins(session, at=ctx.at)
        )
    if sent:
        log.info("owed %d onboarding check-ins", sent)


def purge_expired(ctx: JobContext) -> None:
    """Apply each workspace's retention setting to every feature's records."""
    with session_scope(ctx.deps.sessions) as session:
        cutoffs = service.retention_cutoffs(session, at=ctx.at)
        removed = privacy.purge(session, ctx.deps.features, cutoffs)
    if any(removed.values()):
        log.info("retention removed %s records", sum(removed.values()))


def jobs() -> list[Job]:
    """The people feature's scheduled jobs."""
    return [
        Job("people.checkins", send_checkins, every=timedelta(minutes=15), grace=timedelta(hours=1)),
        Job("people.retention", purge_expired, every=timedelta(hours=6), grace=timedelta(hours=6)),
    ]


# --- anonymous questions ---------------------------------------------------------------------------


def _register_questions(app: App, deps: Deps, router: CopRouter) -> None:
    router.add(
        Subcommand(
            "ask",
            "/cop ask [question]",
            "ask the community anonymously",
            on_ack=_ack_step(deps, lambda s, r: ask(deps, s, r)),
            after_ack=lambda request, client: open_ask(request, client),
            opens_view=True,
            topic=Topic.LEARN,
        )
    )

    @app.view(PeopleView.ASK)
    def submit_ask(ack: Ack, body: dict[str, Any]) -> None:
        ack(**save_ask(deps, ViewSubmission.parse(body)))
        deps.outbox.notify()

    def question_action(body: dict[str, Any], respond: Respond) -> None:
        with answering(respond):  # a payload it cannot read
            tell(respond, _question_action(deps, BlockActions.parse(body)))
        deps.outbox.notify()

    def draft_action(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        with answering(respond):  # a payload it cannot read
            click = BlockActions.parse(body)
            answer = _draft_action(deps, click)
            if click.view:  # the buttons sat in the question modal: answer in it
                client.views_update(view_id=click.view.id, view=blocks.notice_view("Your question", answer))
            else:
                tell(respond, answer, replace=True)
        deps.outbox.notify()

    for action in (PeopleAction.CLOSE_QUESTION, PeopleAction.DELETE_QUESTION):
        app.action(action)(ack=acknowledge, lazy=[question_action])
    for action in (PeopleAction.POST_DRAFT, PeopleAction.DROP_DRAFT):
        app.action(action)(ack=acknowledge, lazy=[draft_action])


def _author(deps: Deps, team_id: str, user_id: str) -> str:
    return service.author_hash(hash_key_for(deps.settings), team_id=team_id, user_id=user_id)


def ask(deps: Deps, session: Session, request: SubcommandRequest) -> Reply:
    """Answer `/cop ask QUESTION`: show matching reviews first when any, else post it."""
    if not request.args:
        return None  # the modal opens after the ack
    command = request.command
    question = service.draft_question(
        session,
        team_id=command.team_id,
        channel_id=command.channel_id,
        author=_author(deps, command.team_id, command.user_id),
        text=request.args,
        at=now(),
    )
    found = matches(session, team_id=command.team_id, text=question.text)
    if found:
        return blocks.draft_matches(question.id, found)
    community = flows.publish_question(session, question=question)
    log.info("anonymous question %s posted in community %s", question.id, community.id)
    return blocks.asked_message(community)


def open_ask(request: SubcommandRequest, client: WebClient) -> None:
    """Open the question modal when `/cop ask` came without a question."""
    if request.args:
        return
    client.views_open(
        trigger_id=request.command.trigger_id, view=blocks.ask_modal(channel_id=request.command.channel_id)
    )


def save_ask(deps: Deps, submission: ViewSubmission) -> dict[str, Any]:
    """Validate and post the modal's question; return the `ack()` arguments."""
    view = submission.view
    channel_id = str(view.metadata.get("channel_id", ""))
    team_id, user_id = submission.team_id, submission.user_id
    text = state_value(view.values, PeopleBlock.ASK_TEXT, PeopleAction.ASK_INPUT) or ""
    try:
        with session_scope(deps.sessions) as session:
            question = service.draft_question(
                session,
                team_id=team_id,
                channel_id=channel_id,
                author=_author(deps, team_id, user_id),
                text=text,
                at=now(),
            )
            found = matches(session, team_id=team_id, text=question.text)
            if found:  # the library may answer it: show that first, post only if asked to
                return {"response_action": "update", "view": blocks.draft_matches_view(question.id, found)}
            community = flows.publish_question(session, question=question)
    except InvalidInput as error:
        return modal_errors(error, {"text": PeopleBlock.ASK_TEXT})
    except CopbotError as error:
        return {"response_action": "errors", "errors": {PeopleBlock.ASK_TEXT.value: str(error)}}
    log.info("anonymous question %s posted in community %s", question.id, community.id)
    return {"response_action": "update", "view": blocks.asked_view(community)}


def _action_target(click: BlockActions) -> tuple[str, int, str]:
    if not click.action.value.isdigit():
        raise InvalidInput({"question": "That button is out of date."})
    return click.team_id, int(click.action.value), click.action.action_id


def _question_action(deps: Deps, click: BlockActions) -> str:
    try:
        team_id, question_id, action_id = _action_target(click)
        with session_scope(deps.sessions) as session:
            flows.end_question(
                session,
                team_id=team_id,
                question_id=question_id,
                author=_author(deps, team_id, click.user_id),
                delete_it=action_id == PeopleAction.DELETE_QUESTION,
                at=now(),
            )
    except CopbotError as error:
        return user_message(error)
    if action_id == PeopleAction.DELETE_QUESTION:
        return "Your question is deleted."
    return ":white_check_mark: Marked answered. Thank you for asking!"


def _draft_action(deps: Deps, click: BlockActions) -> str:
    try:
        team_id, question_id, action_id = _action_target(click)
        author = _author(deps, team_id, click.user_id)
        with session_scope(deps.sessions) as session:
            if action_id == PeopleAction.DROP_DRAFT:
                service.drop_draft(session, team_id=team_id, question_id=question_id, author=author)
                return "Glad that helped. Nothing was posted."
            community = flows.post_draft(session, team_id=team_id, question_id=question_id, author=author)
    except CopbotError as error:
        return user_message(error)
    return blocks.asked_message(community)


_STOPWORD_TEXT = (
    "about after again also because been before being could does doing from have having here how "
    "into just like more most much only other over same should some such than that their them then "
    "there these they this those through very want were what when where which while will with would "
    "your"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def keywords(text: str, limit: int = 3) -> list[str]:
    """The question's telling words: the longest ones of four letters or more that are not stop words."""
    words = {w.lower() for w in re.findall(r"\w{4,}", text)} - STOPWORDS
    return sorted(words, key=lambda w: (-len(w), w))[:limit]


def matches(session: Session, *, team_id: str, text: str, limit: int = 3) -> list[tuple[str, str]]:
    """The practice library's best matches for a question, as (title, snippet)."""
    words = keywords(text)
    # The library requires every word: try the three most telling, then fewer, until something matches.
    for size in range(len(words), 0, -1):
        try:
            with session.begin_nested():  # a library without its index must not spoil the question
                hits = search.search(
                    session, team_id=team_id, query=" ".join(words[:size]), per_page=limit
                ).hits
        except Exception:
            log.exception("the practice library search failed; asking without it")
            return []
        if hits:
            marks = str.maketrans("", "", "\x02\x03")
            return [(f"{h.kind.title()}: {h.title}", h.snippet.translate(marks)) for h in hits]
    return []


def export_records(session: Session, communities: list[Community]) -> dict[str, list[dict[str, Any]]]:
    """Posted anonymous questions, for `copbot export` (never their author)."""
    by_id = {c.id: c for c in communities}
    questions: list[Question] = service.questions_for_export(session, community_ids=list(by_id))
    return {
        "questions": [
            {
                "team_id": q.team_id,
                "channel_id": by_id[q.community_id].channel_id,
                "text": q.text,
                "status": q.status,
                "created_at": q.created_at.isoformat(),
                "closed_at": q.closed_at.isoformat() if q.closed_at else None,
            }
            for q in questions
        ]
    }


# --- privacy ---------------------------------------------------------------------------------------


def _register_privacy(app: App, deps: Deps, router: CopRouter) -> None:
    router.add(
        Subcommand(
            "forget-me",
            "/cop forget-me",
            "delete or anonymise every record that names you (asks first)",
            on_ack=lambda request: blocks.forget_confirmation(),
            topic=Topic.YOU,
        )
    )

    def forget_me(body: dict[str, Any], respond: Respond) -> None:
        with answering(respond):  # a payload it cannot read
            click = BlockActions.parse(body)
            with session_scope(deps.sessions) as session:
                person = Person(click.team_id, click.user_id, hash_key_for(deps.settings))
                report = privacy.forget(session, deps.features, person)
            log.info("forgot a member on request: %s", ", ".join(sorted(report.counts)) or "nothing held")
            tell(respond, blocks.forgotten_message(), replace=True)

    def keep_me(respond: Respond) -> None:
        tell(respond, "Nothing was deleted.", replace=True)

    app.action(PeopleAction.FORGET_ME)(ack=acknowledge, lazy=[forget_me])
    app.action(PeopleAction.KEEP_ME)(ack=acknowledge, lazy=[keep_me])
