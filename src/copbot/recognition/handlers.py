"""Slack listeners for recognition: `/nominate`, "Recognize this", "Thank the author", the modal,
`/cop digest|values|recognition`, and the weekly digest job.

Bots and deactivated users are refused in the submission's ack, which must answer within Slack's 3 s
and may not wait on the Web API in general. They are checked against `recognition_user_facts`, a cache
of `users.info` answers: filled when the modal opens (the pre-filled nominees, in the lazy listener) and,
for a nominee picked in the modal and not yet known, by a `users.info` call made in the ack with a short
timeout (1 s, no retries, all nominees in parallel). users.info is a Tier 4 method that answers in tens
of milliseconds, so a cold submission still acks well within the 3 s; a nominee Slack did not answer
for in time gets a field error asking to send again, and nothing is stored (never an unchecked bot).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from copbot.blockkit import escape
from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.communities.setup import StateValues
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.errors import CopbotError, InvalidInput
from copbot.recognition import blocks, digest, flows, learning, service
from copbot.recognition.ids import (
    FIELD_BLOCKS,
    RecognitionAction,
    RecognitionCommand,
    RecognitionField,
    RecognitionSetup,
    RecognitionShortcut,
    RecognitionView,
)
from copbot.recognition.models import DEFAULT_VALUES
from copbot.slack.client import SlackClient
from copbot.slack.commands import CopRouter, Reply, Subcommand, Topic
from copbot.slack.errors import user_message
from copbot.slack.events import on_payload
from copbot.slack.lanes import done_before_ack, opens_view, refuse_after_ack
from copbot.slack.listeners import acknowledge, modal_errors, tell
from copbot.slack.payloads import (
    BlockActions,
    CommandRequest,
    Interaction,
    MalformedPayload,
    MessageShortcut,
    ReactionAddedEvent,
    ReactionRemovedEvent,
    SubcommandRequest,
    ViewSubmission,
    state_value,
)

log = logging.getLogger(__name__)

SUBMIT_LOOKUP_TIMEOUT = 1.0  # seconds for users.info inside a submission's ack
INLINE_VIEW_TIMEOUT = 1.2  # seconds for a views.open the ack waits for: the ack still leaves within 3 s


def register(app: App, deps: Deps, router: CopRouter) -> None:
    """Register the recognition listeners and `/cop` subcommands."""

    def acknowledge_nominate(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        command = CommandRequest.parse(body)
        nominees, story = service.parse_command_text(command.text)
        try:
            with session_scope(deps.sessions) as session:
                community, left = _start(
                    session, team_id=command.team_id, channel_id=command.channel_id, user_id=command.user_id
                )
                settings = service.settings_for(session, community=community)
        except CopbotError as error:
            refuse_after_ack(context)  # no modal: no users.info, no lookups after the ack
            ack(text=user_message(error), response_type="ephemeral")
            return
        ack()
        if nominees:
            return  # users.info first, after the ack (`open_from_command`)
        # Nobody to look up: open the modal here, right after the ack and its reads, on this thread. No
        # hand-off to a lane, no second read of the community and the quota, no queue to wait in.
        done_before_ack(context)
        view = blocks.nomination_modal(
            blocks.ModalContext(community=community, settings=settings, left=left, story=story)
        )
        client.timeout = INLINE_VIEW_TIMEOUT  # type: ignore[assignment]  # this request's own client
        try:
            client.views_open(trigger_id=command.trigger_id, view=view)
        except Exception as error:  # the ack stands; Slack refused or did not answer: nothing to undo
            log.warning("views.open for /nominate failed: %s", type(error).__name__)

    @opens_view
    def open_from_command(body: dict[str, Any], client: WebClient) -> None:
        command = CommandRequest.parse(body)
        nominees, story = service.parse_command_text(command.text)
        try:
            open_modal(
                deps, client, asker=command, channel_id=command.channel_id, nominees=nominees, story=story
            )
        except CopbotError:
            return  # the ack already said why

    @opens_view
    def open_from_message(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            shortcut = MessageShortcut.parse(body)
        except MalformedPayload as error:
            tell(respond, user_message(error))
            return
        channel_id, message = shortcut.channel_id, shortcut.message
        try:
            permalink = client.chat_getPermalink(channel=channel_id, message_ts=message.ts)["permalink"]
        except SlackApiError as error:
            log.warning("no permalink for a recognized message: %s", error.response.get("error"))
            permalink = None
        author = [message.person] if message.person else []
        try:
            open_modal(
                deps, client, asker=shortcut, channel_id=channel_id, nominees=author, permalink=permalink
            )
        except CopbotError as error:
            tell(respond, user_message(error))

    @opens_view
    def open_from_item(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            click = BlockActions.parse(body)
            value = click.action.value
            with session_scope(deps.sessions) as session:
                item = learning.item_for_thanks(session, team_id=click.team_id, value=value)
            open_modal(
                deps,
                client,
                asker=click,
                community_id=item.community_id,
                nominees=item.authors,
                subject=value,
                subject_title=item.title,
            )
        except CopbotError as error:
            tell(respond, user_message(error))

    @app.view(RecognitionView.NOMINATE)
    def submit_nomination(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack(**save_nomination(deps, ViewSubmission.parse(body), client))
        deps.outbox.notify()

    def learn_nominees(body: dict[str, Any], client: WebClient) -> None:
        click = BlockActions.parse(body)
        team_id = click.team_id
        chosen = [u for u in click.action.selected_users if u != click.user_id]
        with session_scope(deps.sessions) as session:
            unknown = service.stale_users(session, team_id=team_id, user_ids=chosen)
        facts = fetch_facts(client, unknown)
        with session_scope(deps.sessions) as session:
            service.record_facts(session, team_id=team_id, facts=facts)

    app.action(RecognitionField.NOMINEES)(ack=acknowledge, lazy=[learn_nominees])
    app.command(RecognitionCommand.NOMINATE)(ack=acknowledge_nominate, lazy=[open_from_command])
    app.shortcut(RecognitionShortcut.RECOGNIZE_MESSAGE)(ack=acknowledge, lazy=[open_from_message])
    app.action(RecognitionAction.THANK_AUTHOR)(ack=acknowledge, lazy=[open_from_item])
    for usage, summary in (
        ("/nominate [@someone] [what they did]", "recognise someone for something specific"),
        ("Recognize this", "in a message's ⋯ menu: a nomination for its author"),
        ("Thank the author", "the button on reviews and playbooks: a nomination of their authors"),
        ("Any emoji on a recognition's post", "co-signs it (once per person; not a nomination of yours)"),
        ("Turn this into a lesson", "the button on a recognition's post: a review drafted from its story"),
    ):
        router.document(usage, summary, topic=Topic.RECOGNISE)
    on_payload(app, deps, ReactionAddedEvent, cosign)
    on_payload(app, deps, ReactionRemovedEvent, cosign)
    _register_subcommands(deps, router)


def cosign(session: Session, payload: ReactionAddedEvent | ReactionRemovedEvent) -> None:
    """An emoji put on (or taken off) a message copbot posted: a co-sign when it is a nomination's post."""
    event = payload.event
    if event.item.type != "message" or event.item_user not in payload.bot_user_ids:
        return
    flows.react_to_post(
        session,
        flows.PostReaction(
            team_id=payload.team_id,
            channel_id=event.item.channel,
            message_ts=event.item.ts,
            emoji=event.reaction,
            user_id=event.user or "",
            added=isinstance(payload, ReactionAddedEvent),
        ),
    )


class ValuesSetupField:
    """The community's values as a field of `/cop setup`: same rules as `/cop values set`."""

    def blocks(self, session: Session, community: Community | None) -> list[dict[str, Any]]:
        """The field, pre-filled with the current values (the defaults for a new community)."""
        current = (
            list(DEFAULT_VALUES)
            if community is None
            else service.settings_for(session, community=community).values
        )
        return [blocks.values_setup_field(current)]

    def parse(self, values: StateValues) -> list[str] | None:
        """The new list; None (keep the current one) when the field is empty or not in the modal."""
        text = state_value(values, RecognitionSetup.VALUES_BLOCK, RecognitionSetup.VALUES_INPUT) or ""
        if not text.strip():
            return None
        return service.parse_values(
            text, field=RecognitionSetup.VALUES_BLOCK.value, example="Curiosity, Mentoring"
        )

    def save(self, session: Session, community: Community, user_id: str, parsed: list[str] | None) -> None:
        """Store the list (a new community without one keeps the defaults, read when needed)."""
        if parsed is not None:
            service.save_values(session, community=community, user_id=user_id, values=parsed)


def _register_subcommands(deps: Deps, router: CopRouter) -> None:
    def in_session(
        work: Callable[[Session, SubcommandRequest], Reply],
    ) -> Callable[[SubcommandRequest], Reply]:
        def step(request: SubcommandRequest) -> Reply:
            with session_scope(deps.sessions) as session:
                return work(session, request)

        return step

    router.add(
        Subcommand(
            "digest",
            "/cop digest",
            "preview the next weekly recognition digest",
            on_ack=in_session(preview),
            topic=Topic.LEAD,
        )
    )
    router.add(
        Subcommand(
            "values",
            "/cop values [set <A>, <B>, <C>]",
            "the values people are recognised for (leads set them)",
            on_ack=in_session(values),
            topic=Topic.RECOGNISE,
        )
    )
    router.add(
        Subcommand(
            "recognition",
            "/cop recognition [<setting>]",
            "recognition and digest settings",
            on_ack=in_session(recognition_settings),
            topic=Topic.LEAD,
        )
    )


def export_records(session: Session, communities_: list[Community]) -> dict[str, list[dict[str, Any]]]:
    """The `nominations` record kind of `copbot export`."""
    return {"nominations": service.export_nominations(session, communities_=communities_)}


# --- the modal -------------------------------------------------------------------------------------


def _start(session: Session, *, team_id: str, channel_id: str, user_id: str) -> tuple[Community, int]:
    """The community a nomination is for, and how many the user has left; refuse when none."""
    community = service.resolve_community(session, team_id=team_id, channel_id=channel_id, user_id=user_id)
    return community, _left_or_refuse(session, community, user_id)


def _left_or_refuse(session: Session, community: Community, user_id: str) -> int:
    left = service.remaining(session, community=community, user_id=user_id)
    if left == 0:
        limit = service.settings_for(session, community=community).weekly_limit
        raise InvalidInput(
            {
                "limit": f"You have made your {limit} nominations this week, so each one stays meaningful. "
                "You can recognise more people from Monday."
            }
        )
    return left


def open_modal(
    deps: Deps,
    client: WebClient,
    *,
    asker: CommandRequest | Interaction,
    channel_id: str | None = None,
    community_id: int | None = None,
    nominees: Sequence[str] = (),
    story: str = "",
    permalink: str | None = None,
    subject: str | None = None,
    subject_title: str | None = None,
) -> None:
    """Check the pre-filled nominees with users.info, then open the nomination modal for `asker`."""
    team_id, user_id = asker.team_id, asker.user_id
    facts = fetch_facts(client, [u for u in nominees if u != user_id])
    with session_scope(deps.sessions) as session:
        service.record_facts(session, team_id=team_id, facts=facts)
        if community_id is not None:
            community = service.community_by_id(session, team_id=team_id, community_id=community_id)
            left = _left_or_refuse(session, community, user_id)
        else:
            community, left = _start(session, team_id=team_id, channel_id=channel_id or "", user_id=user_id)
        refused = service.refused_users(session, team_id=team_id, user_ids=nominees)
        settings = service.settings_for(session, community=community)
    dropped = [(u, "that's you") for u in nominees if u == user_id] + list(refused.items())
    view = blocks.nomination_modal(
        blocks.ModalContext(
            community=community,
            settings=settings,
            left=left,
            nominees=[u for u in nominees if u != user_id and u not in refused],
            story=story,
            permalink=permalink,
            subject=subject,
            subject_title=subject_title,
            dropped=dropped,
        )
    )
    client.views_open(trigger_id=asker.trigger_id, view=view)


def fetch_facts(client: WebClient, user_ids: Sequence[str]) -> list[service.Fact]:
    """Ask users.info about each user, in parallel; users Slack did not answer for are left out."""
    if not user_ids:
        return []

    def one(user_id: str) -> service.Fact | None:
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                return service.Fact(user_id, is_bot=False, deleted=True)
            log.warning("users.info failed for a nominee: %s", error.response.get("error"))
            return None
        except Exception as error:  # a timeout or a connection error: unknown, not refused
            log.warning("users.info did not answer: %s", type(error).__name__)
            return None
        is_bot = bool(user.get("is_bot")) or user.get("id") == "USLACKBOT"
        return service.Fact(user_id, is_bot=is_bot, deleted=bool(user.get("deleted")))

    with ThreadPoolExecutor(max_workers=min(len(user_ids), 10)) as pool:
        return [fact for fact in pool.map(one, user_ids) if fact is not None]


def _quick_client(client: WebClient) -> WebClient:
    """A client for calls made inside an ack: a short timeout and no retries."""
    return SlackClient(
        token=client.token,
        base_url=client.base_url,
        timeout=SUBMIT_LOOKUP_TIMEOUT,  # type: ignore[arg-type]
        retry_handlers=[],
    )


def read_form(values: dict[str, Any], meta: dict[str, Any]) -> service.NominationForm:
    """Read the nomination modal's state."""
    return service.NominationForm(
        nominees=list(state_value(values, RecognitionField.NOMINEES, RecognitionField.NOMINEES) or []),
        value=state_value(values, RecognitionField.VALUE, RecognitionField.VALUE) or "",
        action=state_value(values, RecognitionField.ACTION, RecognitionField.ACTION) or "",
        impact=state_value(values, RecognitionField.IMPACT, RecognitionField.IMPACT) or "",
        public=state_value(values, RecognitionField.VISIBILITY, RecognitionField.VISIBILITY)
        != blocks.PRIVATE,
        permalink=meta.get("permalink"),
        subject=meta.get("subject"),
    )


def save_nomination(deps: Deps, submission: ViewSubmission, client: WebClient) -> dict[str, Any]:
    """Validate and store a submitted nomination with its DMs and post; return the `ack()` arguments."""
    team_id, user_id = submission.team_id, submission.user_id
    meta = submission.view.metadata
    form = read_form(submission.view.values, meta)
    nominees = [u for u in form.nominees if u != user_id]
    community_id = int(meta.get("community_id") or 0)
    try:
        # Nominees all known (the usual case): one transaction checks them and stores the nomination.
        with session_scope(deps.sessions) as session:
            unknown = service.stale_users(session, team_id=team_id, user_ids=nominees)
            if not unknown:
                done = flows.nominate(
                    session, team_id=team_id, community_id=community_id, nominator_id=user_id, form=form
                )
        if unknown:  # users.info between transactions, never inside one
            learn_unknown(deps, client, team_id=team_id, unknown=unknown)
            with session_scope(deps.sessions) as session:
                done = flows.nominate(
                    session, team_id=team_id, community_id=community_id, nominator_id=user_id, form=form
                )
        nomination, community = done.nomination, done.community
        held = nomination.public and not nomination.posted
    except InvalidInput as error:
        return modal_errors(error, FIELD_BLOCKS)
    except CopbotError as error:
        return {"response_action": "errors", "errors": {RecognitionField.NOMINEES.value: str(error)}}
    log.info("nomination %s stored in community %s", nomination.id, community.id)
    return {"response_action": "update", "view": blocks.thanks_view(nomination, left=done.left, held=held)}


def check_unknown_nominees(deps: Deps, client: WebClient, *, team_id: str, nominees: list[str]) -> None:
    """Learn about nominees the cache does not know yet; refuse the submission if Slack did not say."""
    with session_scope(deps.sessions) as session:
        unknown = service.stale_users(session, team_id=team_id, user_ids=nominees)
    if unknown:
        learn_unknown(deps, client, team_id=team_id, unknown=unknown)


def learn_unknown(deps: Deps, client: WebClient, *, team_id: str, unknown: list[str]) -> None:
    """Ask Slack about users the cache does not know; refuse the submission if it did not say."""
    facts = fetch_facts(_quick_client(client), unknown)
    with session_scope(deps.sessions) as session:
        service.record_facts(session, team_id=team_id, facts=facts)
    missing = set(unknown) - {f.user_id for f in facts}
    if missing:
        raise InvalidInput(
            {"nominees": "Slack did not answer in time while I checked who you chose. Please send again."}
        )


# --- /cop subcommands ------------------------------------------------------------------------------


def _community(session: Session, request: SubcommandRequest) -> Community:
    command = request.command
    return communities.require_community(session, team_id=command.team_id, channel_id=command.channel_id)


def preview(session: Session, request: SubcommandRequest) -> Reply:
    """Answer `/cop digest`: what the next digest would say, for the community's leads."""
    community = _community(session, request)
    communities.require_lead(
        session, community=community, user_id=request.command.user_id, action="preview its digest"
    )
    settings = service.settings_for(session, community=community)
    due = service.next_digest(settings, community.timezone, now())
    message = digest.digest_message(digest.gather(session, community=community, end=due))
    when = (
        "is off (`/cop recognition digest monday 09:00` turns it on)"
        if not settings.digest_enabled
        else f"is due {due.astimezone(ZoneInfo(community.timezone)):%A %d %B at %H:%M} ({community.timezone})"
    )
    intro = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"Preview: the next digest {when}. So far it says:"}],
    }
    return {"text": message["text"], "blocks": [intro, {"type": "divider"}, *message["blocks"][:47]]}


def values(session: Session, request: SubcommandRequest) -> Reply:
    """Answer `/cop values` (list them) and `/cop values set A, B, C` (leads)."""
    community = _community(session, request)
    verb, _, rest = request.args.partition(" ")
    if verb.lower() == "set":
        try:
            chosen = service.set_values(
                session, community=community, user_id=request.command.user_id, text=rest
            )
        except InvalidInput as error:
            return str(error)
        return "Values saved: " + ", ".join(f"*{escape(v)}*" for v in chosen)
    if request.args:
        return "Usage: `/cop values`, or for leads `/cop values set Curiosity, Mentoring`."
    listed = ", ".join(f"*{escape(v)}*" for v in service.settings_for(session, community=community).values)
    name = escape(community.name)
    return f"People in *{name}* are recognised for: {listed}. Leads edit them with `/cop values set A, B, C`."


def recognition_settings(session: Session, request: SubcommandRequest) -> Reply:
    """Answer `/cop recognition` (show the settings) and `/cop recognition SETTING ...` (leads)."""
    community = _community(session, request)
    if request.args:
        try:
            change = service.parse_setting(request.args)
        except InvalidInput as error:
            return f"{error} " + _settings_reply(session, community)
        service.change_setting(session, community=community, user_id=request.command.user_id, change=change)
        return ":white_check_mark: Saved.\n" + _settings_reply(session, community)
    return _settings_reply(session, community)


def _settings_reply(session: Session, community: Community) -> str:
    settings = service.settings_for(session, community=community)
    return blocks.settings_text(
        community, settings, next_digest=service.next_digest(settings, community.timezone, now())
    )
