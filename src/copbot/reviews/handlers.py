"""Slack listeners for reviews: `/postmortem`, `/cop search|playbook|review-settings`, the modals, the
buttons on posts and DMs, the thread-capture shortcut and the capture-by-reaction event."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from copbot.blockkit import Message, channel_link
from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.errors import CopbotError, InvalidInput, NotFound
from copbot.recognition.ids import RecognitionAction
from copbot.reviews import blocks, checkin_flows, flows, search, service, spread_blocks, spread_flows
from copbot.reviews.blocks import ReviewDraft
from copbot.reviews.ids import (
    FIELD_BLOCKS,
    ReviewAction,
    ReviewCommand,
    ReviewField,
    ReviewShortcut,
    ReviewView,
)
from copbot.reviews.models import CheckinAnswer
from copbot.rituals.ids import SessionAction
from copbot.slack.commands import CopRouter, Subcommand, Topic
from copbot.slack.events import on_payload
from copbot.slack.lanes import opens_view
from copbot.slack.listeners import acknowledge, answering, modal_errors, tell
from copbot.slack.payloads import (
    BlockActions,
    BlockSuggestion,
    CommandRequest,
    MessageShortcut,
    ReactionAddedEvent,
    SubcommandRequest,
    ViewSubmission,
    state_value,
)

log = logging.getLogger(__name__)

REVIEW_FIELDS = [
    ReviewField.TEMPLATE,
    ReviewField.TITLE,
    ReviewField.CONTEXT,
    ReviewField.EXPECTED,
    ReviewField.HAPPENED,
    ReviewField.WENT_WELL,
    ReviewField.TO_CHANGE,
    ReviewField.LESSONS,
    ReviewField.LESSON_OWNER,
    ReviewField.DECISIONS,
    ReviewField.ACTION_OWNERS,
    ReviewField.COAUTHORS,
    ReviewField.TAGS,
    ReviewField.LINKS,
    ReviewField.RELATED,
]
PLAYBOOK_FIELDS = [ReviewField.PLAYBOOK_TITLE, ReviewField.PLAYBOOK_WHEN, ReviewField.PLAYBOOK_STEPS]
PER_PAGE = 5


def register(app: App, deps: Deps, router: CopRouter) -> None:
    """Register the review listeners, `/postmortem` and the reviews' `/cop` subcommands."""
    router.document("/postmortem [title]", "write an after-action review or postmortem", topic=Topic.CAPTURE)
    router.document(
        "Capture as after-action review",
        "in a message's ⋯ menu: a review drafted from its thread",
        topic=Topic.CAPTURE,
    )
    router.document(":bulb: on a message", "asks its author to record it as a lesson", topic=Topic.CAPTURE)
    router.add(
        Subcommand(
            "search",
            "/cop search [--all] <words>",
            "search reviews and playbooks (of every community with --all)",
            on_ack=lambda r: search_reply(deps, r),
            topic=Topic.LEARN,
        )
    )
    router.add(
        Subcommand(
            "playbook",
            "/cop playbook [new]",
            "this community's playbooks, or start one",
            on_ack=lambda r: playbook_reply(deps, r),
            after_ack=lambda r, client: open_new_playbook(deps, r, client),
            opens_view=True,
            topic=Topic.CAPTURE,
        )
    )
    router.add(
        Subcommand(
            "review-settings",
            "/cop review-settings [emoji=<name>] [reverify=<days>] [reminder=<hours>]",
            "the capture emoji, days between lesson checks, hours before a review reminder",
            on_ack=lambda r: settings_reply(deps, r),
            topic=Topic.LEAD,
        )
    )

    @opens_view
    def open_from_command(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            command = CommandRequest.parse(body)
            draft = ReviewDraft(template=_template_for(command), title=command.text.strip()[:150])
            _open_review(
                deps, client, command.team_id, command.trigger_id, channel_id=command.channel_id, draft=draft
            )

    app.command(ReviewCommand.POSTMORTEM)(ack=acknowledge, lazy=[open_from_command])

    @app.view(ReviewView.REVIEW)
    def submit_review(ack: Ack, body: dict[str, Any]) -> None:
        ack(**save_review(deps, ViewSubmission.parse(body)))
        deps.outbox.notify()

    @app.view(ReviewView.PLAYBOOK)
    def submit_playbook(ack: Ack, body: dict[str, Any]) -> None:
        ack(**save_playbook(deps, ViewSubmission.parse(body)))
        deps.outbox.notify()

    @app.view(ReviewView.LESSON)
    def submit_lesson(ack: Ack, body: dict[str, Any]) -> None:
        ack(**save_lesson(deps, ViewSubmission.parse(body)))

    @app.view(ReviewView.APPLIED_WHERE)
    def submit_applied_where(ack: Ack, body: dict[str, Any]) -> None:
        ack(**applied_where(deps, ViewSubmission.parse(body)))
        deps.outbox.notify()

    @app.options(ReviewField.RELATED)
    def suggest_related(ack: Ack, body: dict[str, Any]) -> None:
        typed = BlockSuggestion.parse(body)
        with session_scope(deps.sessions) as session:
            found = service.find_reviews(session, team_id=typed.team_id, text=typed.value)
            ack(**blocks.related_options(found))

    _register_buttons(app, deps, acknowledge)
    _register_captures(app, deps, acknowledge)


def _register_buttons(app: App, deps: Deps, acknowledge: Any) -> None:
    @opens_view
    def open_edit(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            open_review_editor(deps, BlockActions.parse(body), client)

    @opens_view
    def mark_applied(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            answer = applied(deps, click)
            if isinstance(answer, str):
                tell(respond, answer)
            else:
                client.views_open(trigger_id=click.trigger_id, view=answer)

    @opens_view
    def open_promote(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            open_promotion(deps, BlockActions.parse(body), client)

    def turn_page(body: dict[str, Any], respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            query, page, scope = blocks.parse_page_value(click.action.value)
            reply = render_search(
                deps, click.team_id, query, page, click.team_domain, viewer=click.user_id, scope=scope
            )
            respond(replace_original=True, **reply)

    @opens_view
    def open_playbook_button(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            with session_scope(deps.sessions) as session:
                community = _community_by_id(session, click.team_id, click.action.value)
            view = blocks.playbook_modal(metadata={"community_id": community.id}, community=community)
            client.views_open(trigger_id=click.trigger_id, view=view)

    def answer_lesson(body: dict[str, Any], respond: Respond) -> None:
        with answering(respond):
            respond(replace_original=True, **lesson_answer(deps, BlockActions.parse(body)))

    @opens_view
    def open_lesson_update(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            with session_scope(deps.sessions) as session:
                lesson = service.get_lesson(
                    session, team_id=click.team_id, lesson_id=_int_value(click), user_id=click.user_id
                )
                view = blocks.lesson_modal(lesson)
            client.views_open(trigger_id=click.trigger_id, view=view)

    app.action(ReviewAction.EDIT)(ack=acknowledge, lazy=[open_edit])
    app.action(ReviewAction.APPLIED)(ack=acknowledge, lazy=[mark_applied])
    app.action(ReviewAction.PROMOTE)(ack=acknowledge, lazy=[open_promote])
    paging = (ReviewAction.SEARCH_PREVIOUS, ReviewAction.SEARCH_NEXT, ReviewAction.SEARCH_SCOPE)
    pages = re.compile(f"^({'|'.join(paging)})$")
    app.action(pages)(ack=acknowledge, lazy=[turn_page])
    app.action(ReviewAction.NEW_PLAYBOOK)(ack=acknowledge, lazy=[open_playbook_button])
    app.action(ReviewAction.LESSON_TRUE)(ack=acknowledge, lazy=[answer_lesson])
    app.action(ReviewAction.LESSON_RETIRE)(ack=acknowledge, lazy=[answer_lesson])
    app.action(ReviewAction.LESSON_UPDATE)(ack=acknowledge, lazy=[open_lesson_update])

    def answer_checkin(body: dict[str, Any], respond: Respond) -> None:
        with answering(respond):
            respond(replace_original=True, **checkin_answer(deps, BlockActions.parse(body)))

    for answer in (ReviewAction.CHECKIN_YES, ReviewAction.CHECKIN_NO, ReviewAction.CHECKIN_STOPPED):
        app.action(answer)(ack=acknowledge, lazy=[answer_checkin])


def _register_captures(app: App, deps: Deps, acknowledge: Any) -> None:
    @opens_view
    def capture_thread(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            shortcut = MessageShortcut.parse(body)
            channel_id = shortcut.channel_id
            root = shortcut.message.root_ts
            draft = draft_from_thread(client, channel_id=channel_id, root_ts=root, user_id=shortcut.user_id)
            _open_review(
                deps, client, shortcut.team_id, shortcut.trigger_id, channel_id=channel_id, draft=draft
            )

    @opens_view
    def record_captured(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            value = _json_value(click)
            channel_id, ts = str(value.get("c", "")), str(value.get("ts", ""))
            draft = draft_from_message(client, channel_id=channel_id, ts=ts)
            _open_review(deps, client, click.team_id, click.trigger_id, channel_id=channel_id, draft=draft)

    @opens_view
    def open_from_session(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            _open_review(
                deps,
                client,
                click.team_id,
                click.trigger_id,
                channel_id=click.channel_id,
                draft=ReviewDraft(),
                occurrence_id=_int_value(click),
            )

    @opens_view
    def open_from_reminder(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            value = _json_value(click)
            occurrence = int(value["o"]) if str(value.get("o", "")).isdigit() else None
            _open_review(
                deps,
                client,
                click.team_id,
                click.trigger_id,
                channel_id=str(value.get("c", "")),
                draft=ReviewDraft(),
                occurrence_id=occurrence,
            )

    @opens_view
    def open_from_nomination(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            with session_scope(deps.sessions) as session:
                nomination = service.get_nomination(
                    session, team_id=click.team_id, nomination_id=_int_value(click)
                )
                community = session.get_one(Community, nomination.community_id)
                draft = ReviewDraft.of_story(nomination)
            _open_review(
                deps,
                client,
                click.team_id,
                click.trigger_id,
                channel_id=community.channel_id,
                draft=draft,
                nomination_id=nomination.id,
            )

    app.shortcut(ReviewShortcut.CAPTURE_REVIEW)(ack=acknowledge, lazy=[capture_thread])
    app.action(RecognitionAction.TURN_INTO_LESSON)(ack=acknowledge, lazy=[open_from_nomination])
    app.action(ReviewAction.RECORD_CAPTURED)(ack=acknowledge, lazy=[record_captured])
    app.action(SessionAction.OPEN_REVIEW_FROM_SESSION)(ack=acknowledge, lazy=[open_from_session])
    app.action(ReviewAction.OPEN_REVIEW)(ack=acknowledge, lazy=[open_from_reminder])
    on_payload(app, deps, ReactionAddedEvent, handle_reaction)


# --- helpers ---------------------------------------------------------------------------------------


def _int_value(click: BlockActions) -> int:
    if not click.action.value.isdigit():
        raise NotFound("That button is out of date.")
    return int(click.action.value)


def _json_value(click: BlockActions) -> dict[str, Any]:
    """A button's value that carries a JSON object ({} when it does not)."""
    try:
        value = json.loads(click.action.value or "{}")
    except ValueError:
        raise NotFound("That button is out of date.") from None
    return value if isinstance(value, dict) else {}


def _template_for(command: CommandRequest) -> str:
    return "postmortem" if command.command == ReviewCommand.POSTMORTEM else "after_action"


def _community_by_id(session: Session, team_id: str, community_id: Any) -> Community:
    try:
        return service.require_community_id(session, team_id=team_id, community_id=community_id)
    except InvalidInput:
        raise NotFound("That community no longer exists.") from None


def _open_review(
    deps: Deps,
    client: WebClient,
    team_id: str,
    trigger_id: str,
    *,
    channel_id: str,
    draft: ReviewDraft,
    occurrence_id: int | None = None,
    nomination_id: int | None = None,
) -> None:
    """Open the review modal for the channel's community, or with a community choice when it has none
    (linked to the session, or the recognition, it is written from)."""
    with session_scope(deps.sessions) as session:
        community = communities.community_for_channel(session, team_id=team_id, channel_id=channel_id)
        choices = [] if community else service.workspace_communities(session, team_id=team_id)
    if community is None and not choices:
        raise NotFound("There is no community yet. A lead can create one with `/cop setup` in its channel.")
    metadata: dict[str, Any] = {"community_id": community.id if community else None}
    if occurrence_id is not None:
        metadata["occurrence_id"] = occurrence_id
    if nomination_id is not None:
        metadata["nomination_id"] = nomination_id
    view = blocks.review_modal(draft, metadata=metadata, community=community, choices=choices)
    client.views_open(trigger_id=trigger_id, view=view)


def _field_values(submission: ViewSubmission, fields: list[ReviewField]) -> dict[str, Any]:
    return {f.name.lower(): state_value(submission.view.values, f, f) for f in fields}


# --- modal submissions (validated and stored before the ack) ---------------------------------------


def save_review(deps: Deps, submission: ViewSubmission) -> dict[str, Any]:
    """Validate and store the review modal, owing its channel post (or the post's update); return ack args."""
    metadata = submission.view.metadata
    try:
        entry = flows.ReviewEntry(
            team_id=submission.team_id,
            user_id=submission.user_id,
            form=service.ReviewForm.parse(_field_values(submission, REVIEW_FIELDS)),
            review_id=_int(metadata, "review_id"),
            community_id=_chosen_community(submission),
            occurrence_id=_int(metadata, "occurrence_id"),
            nomination_id=_int(metadata, "nomination_id"),
        )
        with session_scope(deps.sessions) as session:
            saved = flows.save_review(session, entry)
            if saved.created:
                spread_flows.offer_similar(session, saved.review, domain=submission.team_domain)
            log.info(
                "review %s saved by %s (revision %s)", saved.review.id, entry.user_id, saved.review.revision
            )
            view = blocks.saved_view(saved.review, saved.community, created=saved.created)
    except InvalidInput as error:
        return modal_errors(error, FIELD_BLOCKS)
    except CopbotError as error:
        return {"response_action": "errors", "errors": {ReviewField.TITLE.value: str(error)}}
    return {"response_action": "update", "view": view}


def _chosen_community(submission: ViewSubmission) -> Any:
    """The modal's community id: fixed in its metadata, or chosen in its picker when run outside one."""
    view = submission.view
    return view.metadata.get("community_id") or state_value(
        view.values, ReviewField.COMMUNITY, ReviewField.COMMUNITY
    )


def _int(metadata: dict[str, Any], key: str) -> int | None:
    """An id carried in private_metadata, or None when absent or not a number."""
    value = metadata.get(key)
    return value if isinstance(value, int) else None


def save_playbook(deps: Deps, submission: ViewSubmission) -> dict[str, Any]:
    """Validate and store the playbook modal, owing its channel post; return ack args."""
    try:
        entry = flows.PlaybookEntry(
            team_id=submission.team_id,
            user_id=submission.user_id,
            form=service.PlaybookForm.parse(_field_values(submission, PLAYBOOK_FIELDS)),
            community_id=_chosen_community(submission),
            source_review_id=_int(submission.view.metadata, "review_id"),
            domain=submission.team_domain,
        )
        with session_scope(deps.sessions) as session:
            flows.save_playbook(session, entry)
    except InvalidInput as error:
        return modal_errors(error, FIELD_BLOCKS)
    except CopbotError as error:
        return {"response_action": "errors", "errors": {ReviewField.PLAYBOOK_TITLE.value: str(error)}}
    return {"response_action": "clear"}


def save_lesson(deps: Deps, submission: ViewSubmission) -> dict[str, Any]:
    """Store a lesson's new wording; return ack args."""
    values = submission.view.values
    lesson_id = _int(submission.view.metadata, "lesson_id")
    try:
        with session_scope(deps.sessions) as session:
            service.rewrite_lesson(
                session,
                team_id=submission.team_id,
                lesson_id=lesson_id or 0,
                user_id=submission.user_id,
                text=state_value(values, ReviewField.LESSON_TEXT, ReviewField.LESSON_TEXT) or "",
            )
    except InvalidInput as error:
        return modal_errors(error, FIELD_BLOCKS)
    except CopbotError as error:
        return {"response_action": "errors", "errors": {ReviewField.LESSON_TEXT.value: str(error)}}
    return {"response_action": "clear"}


# --- after-ack work --------------------------------------------------------------------------------


def open_review_editor(deps: Deps, click: BlockActions, client: WebClient) -> None:
    """Open the review modal pre-filled with a review, for one of its authors."""
    with session_scope(deps.sessions) as session:
        review = service.get_review(session, team_id=click.team_id, review_id=_int_value(click))
        service.require_editor(review, user_id=click.user_id)
        related = service.reviews_by_id(session, team_id=review.team_id, ids=review.related_ids)
        community = session.get_one(Community, review.community_id)
        draft = ReviewDraft.of(review, [related[i] for i in review.related_ids if i in related])
        view = blocks.review_modal(
            draft, metadata={"review_id": review.id}, community=community, editing=True
        )
    client.views_open(trigger_id=click.trigger_id, view=view)


def open_promotion(deps: Deps, click: BlockActions, client: WebClient) -> None:
    """Open the playbook modal pre-filled from a review's lessons, linked back to it."""
    with session_scope(deps.sessions) as session:
        review = service.get_review(session, team_id=click.team_id, review_id=_int_value(click))
        community = session.get_one(Community, review.community_id)
        view = blocks.playbook_modal(
            metadata={"community_id": community.id, "review_id": review.id},
            community=community,
            title=review.title,
            when=review.context,
            steps="\n".join(lesson.text for lesson in review.lessons),
        )
    client.views_open(trigger_id=click.trigger_id, view=view)


def applied(deps: Deps, click: BlockActions) -> str | dict[str, Any]:
    """Record "we applied this" once per member and item, for the adopter's community; return what to
    tell them, or the modal asking which of their communities applied it."""
    kind, _, raw_id = click.action.value.partition(":")
    if not raw_id.isdigit():
        raise NotFound("That button is out of date.")
    application = spread_flows.Application(
        team_id=click.team_id,
        user_id=click.user_id,
        kind=kind,
        item_id=int(raw_id),
        channel_id=click.channel_id or None,
        domain=click.team_domain,
    )
    with session_scope(deps.sessions) as session:
        outcome = spread_flows.apply(session, application)
    if outcome.choices:
        return spread_blocks.applied_where_modal(
            title=outcome.title, kind=kind, item_id=int(raw_id), choices=outcome.choices
        )
    if not outcome.recorded:
        return "You have already marked this as applied. Thank you!"
    deps.outbox.notify()
    if outcome.community is not None:
        where = channel_link(outcome.community.channel_id)
        return f":raised_hands: Noted: {where} applied this. Its authors will hear about it. Thank you!"
    return ":raised_hands: Noted: you applied this. Thanks for closing the loop!"


def applied_where(deps: Deps, submission: ViewSubmission) -> dict[str, Any]:
    """Record "we applied this" for the community chosen in the modal; return ack args."""
    metadata = submission.view.metadata
    chosen = state_value(submission.view.values, ReviewField.APPLIED_COMMUNITY, ReviewField.APPLIED_COMMUNITY)
    if not str(chosen or "").isdigit() or not isinstance(metadata.get("item_id"), int):
        return {"response_action": "errors", "errors": {ReviewField.APPLIED_COMMUNITY: "Choose a community."}}
    application = spread_flows.Application(
        team_id=submission.team_id,
        user_id=submission.user_id,
        kind=str(metadata.get("kind", "")),
        item_id=metadata["item_id"],
        community_id=int(str(chosen)),
        domain=submission.team_domain,
    )
    try:
        with session_scope(deps.sessions) as session:
            outcome = spread_flows.apply(session, application)
            view = (
                spread_blocks.applied_recorded_view(title=outcome.title, community=outcome.community)
                if outcome.community is not None
                else None
            )
    except CopbotError as error:
        return {"response_action": "errors", "errors": {ReviewField.APPLIED_COMMUNITY: str(error)}}
    return {"response_action": "update", "view": view} if view else {"response_action": "clear"}


def lesson_answer(deps: Deps, click: BlockActions) -> Message:
    """Apply the owner's answer to a due lesson (still true, or retire); return the DM's replacement."""
    retire = click.action.action_id == ReviewAction.LESSON_RETIRE
    change = service.retire_lesson if retire else service.verify_lesson
    with session_scope(deps.sessions) as session:
        lesson = change(session, team_id=click.team_id, lesson_id=_int_value(click), user_id=click.user_id)
        return blocks.lesson_answered(lesson, at=now())


CHECKIN_ANSWERS = {
    ReviewAction.CHECKIN_YES: CheckinAnswer.YES,
    ReviewAction.CHECKIN_NO: CheckinAnswer.NO,
    ReviewAction.CHECKIN_STOPPED: CheckinAnswer.STOPPED,
}


def checkin_answer(deps: Deps, click: BlockActions) -> Message:
    """Record the adopter's answer to a check-in; return the DM's replacement."""
    reply = checkin_flows.CheckinReply(
        team_id=click.team_id,
        user_id=click.user_id,
        checkin_id=_int_value(click),
        answer=CHECKIN_ANSWERS[ReviewAction(click.action.action_id)],
        at=now(),
    )
    with session_scope(deps.sessions) as session:
        return checkin_flows.answer(session, reply)


UNREADABLE = {"thread_not_found", "channel_not_found", "not_in_channel", "message_not_found"}


def _read_replies(client: WebClient, **query: Any) -> Any:
    """conversations.replies; a thread copbot cannot see is the person's to fix, so say how."""
    try:
        return client.conversations_replies(**query)
    except SlackApiError as error:
        if error.response.get("error") in UNREADABLE:
            raise NotFound(
                "I can't read that message: add me to its channel (`/invite @copbot`), then try again."
            ) from None
        raise


def draft_from_thread(client: WebClient, *, channel_id: str, root_ts: str, user_id: str) -> ReviewDraft:
    """Pre-fill a review from a thread: its first message as context, its link, its people as co-authors."""
    replies = _read_replies(client, channel=channel_id, ts=root_ts, limit=200)
    messages = replies.get("messages") or []
    first = messages[0] if messages else {}
    people = [m["user"] for m in messages if m.get("user") and not m.get("bot_id")]
    coauthors = [p for p in dict.fromkeys(people) if p != user_id][:20]
    url = client.chat_getPermalink(channel=channel_id, message_ts=root_ts).get("permalink", "")
    text = first.get("text") or ""
    return ReviewDraft(
        title=(text.splitlines() or [""])[0][:150],
        context=text[:3000],
        links=url,
        coauthors=coauthors,
    )


def draft_from_message(client: WebClient, *, channel_id: str, ts: str) -> ReviewDraft:
    """Pre-fill a review from one message: its text as context, its link."""
    found = _read_replies(client, channel=channel_id, ts=ts, limit=1, inclusive=True)
    message: dict[str, Any] = next((m for m in found.get("messages") or [] if m.get("ts") == ts), {})
    url = client.chat_getPermalink(channel=channel_id, message_ts=ts).get("permalink", "")
    text = message.get("text") or ""
    return ReviewDraft(
        title=(text.splitlines() or [""])[0][:150], context=text[:3000], lessons=text[:500], links=url
    )


def handle_reaction(session: Session, payload: ReactionAddedEvent) -> None:
    """Offer a message's author, once per message, to record it when it gets the community's capture emoji."""
    event = payload.event
    author = event.item_user
    if event.item.type != "message" or not author or author in payload.bot_user_ids:
        return
    flows.offer_capture(
        session,
        flows.Reaction(
            team_id=payload.team_id,
            channel_id=event.item.channel,
            message_ts=event.item.ts,
            emoji=event.reaction,
            author_id=author,
            reactor_id=event.user,
        ),
    )


# --- /cop subcommands ------------------------------------------------------------------------------


EVERYWHERE = "--all"


def render_search(
    deps: Deps, team_id: str, query: str, page: int, domain: str | None, *, viewer: str, scope: search.Scope
) -> Message:
    """Search and render one page of results for `viewer` (who gets Edit on what they wrote)."""
    with session_scope(deps.sessions) as session:
        found_page = search.search(
            session, team_id=team_id, query=query, page=page, per_page=PER_PAGE, scope=scope
        )
        found = search.resolve(session, team_id=team_id, page=found_page, domain=domain)
        home = session.get(Community, scope.home) if scope.home is not None else None
        home = home if home is not None and home.team_id == team_id else None
        return blocks.search_results(found_page, found, at=now(), viewer=viewer, home=home)


def search_reply(deps: Deps, request: SubcommandRequest) -> Message | str:
    """Answer `/cop search [--all] <words>` with the first page of results: the channel's community's,
    or every community's with `--all` (or outside a community)."""
    words = request.args.split()
    query = " ".join(word for word in words if word != EVERYWHERE)
    if not search.terms(query):
        return "Tell me what to look for: `/cop search database failover` (`--all` for every community)."
    command = request.command
    with session_scope(deps.sessions) as session:
        home = communities.community_for_channel(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        scope = search.Scope(home=home.id if home else None, everywhere=home is None or EVERYWHERE in words)
    domain = command.team_domain or None
    return render_search(deps, command.team_id, query, 1, domain, viewer=command.user_id, scope=scope)


def playbook_reply(deps: Deps, request: SubcommandRequest) -> Message | None:
    """Answer `/cop playbook` with the community's playbooks (`new` opens the modal after the ack)."""
    if request.args.lower() == "new":
        return None
    command = request.command
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        return blocks.playbook_list(community, service.list_playbooks(session, community=community))


def open_new_playbook(deps: Deps, request: SubcommandRequest, client: WebClient) -> None:
    """Open the playbook modal for `/cop playbook new`."""
    if request.args.lower() != "new":
        return
    command = request.command
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
    view = blocks.playbook_modal(metadata={"community_id": community.id}, community=community)
    client.views_open(trigger_id=command.trigger_id, view=view)


def settings_reply(deps: Deps, request: SubcommandRequest) -> str:
    """Show or change the community's review settings (`emoji=`, `reverify=`, `reminder=`)."""
    command = request.command
    changes = dict(word.partition("=")[::2] for word in request.args.split())
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        if changes:
            current = service.change_settings(
                session, community=community, user_id=command.user_id, changes=changes
            )
        else:
            current = service.settings_for(session, team_id=community.team_id, community_id=community.id)
        return (
            f"Capture emoji :{current.capture_emoji}: · lessons re-checked every "
            f"{current.reverify_days} days · session review reminder after {current.reminder_hours} h."
        )


# --- scheduled work and other hooks ----------------------------------------------------------------
