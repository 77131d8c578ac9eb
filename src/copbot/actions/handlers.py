"""Slack listeners for action items: `/cop actions`, "Edit actions" and its modal, and the owner's DM
buttons (Done, Not doing, New date)."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from copbot.actions import blocks, flows, service
from copbot.actions.ids import (
    FIELD_PREFIXES,
    ActionsAction,
    ActionsBlock,
    ActionsField,
    ActionsView,
    field_block,
)
from copbot.actions.models import ItemStatus
from copbot.actions.service import ItemEdit
from copbot.blockkit import Message
from copbot.communities import service as communities
from copbot.db import session_scope
from copbot.deps import Deps
from copbot.errors import CopbotError, InvalidInput, NotFound
from copbot.reviews.models import Review
from copbot.slack.commands import CopRouter, Subcommand, Topic
from copbot.slack.lanes import opens_view
from copbot.slack.listeners import acknowledge, answering, modal_errors
from copbot.slack.payloads import BlockActions, SubcommandRequest, ViewSubmission, state_value


def register(app: App, deps: Deps, router: CopRouter) -> None:
    """Register `/cop actions`, the Edit actions button and modal, and the DM's buttons."""
    router.add(
        Subcommand(
            "actions",
            "/cop actions",
            "this community's open follow-up actions, by owner, overdue first",
            on_ack=lambda r: open_actions(deps, r),
            topic=Topic.CAPTURE,
        )
    )
    router.document(
        "Edit actions", "on a review's post: change an action's words, owner or due date", topic=Topic.CAPTURE
    )

    @opens_view
    def open_editor(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with answering(respond):
            click = BlockActions.parse(body)
            view = edit_view(deps, click)
            client.views_open(trigger_id=click.trigger_id, view=view)

    def answer_dm(body: dict[str, Any], respond: Respond) -> None:
        with answering(respond):
            record_answer(deps, BlockActions.parse(body))

    @app.view(ActionsView.EDIT)
    def submit_edits(ack: Ack, body: dict[str, Any]) -> None:
        ack(**save_edits(deps, ViewSubmission.parse(body)))
        deps.outbox.notify()

    app.action(ActionsAction.EDIT)(ack=acknowledge, lazy=[open_editor])
    for answer in (ActionsAction.DONE, ActionsAction.NOT_DOING, ActionsAction.NEW_DATE):
        app.action(answer)(ack=acknowledge, lazy=[answer_dm])


def open_actions(deps: Deps, request: SubcommandRequest) -> Message:
    """Answer `/cop actions`: the channel's community's open items."""
    command = request.command
    with session_scope(deps.sessions) as session:
        community = communities.require_community(
            session, team_id=command.team_id, channel_id=command.channel_id
        )
        found = service.open_items(session, community=community)
        return blocks.open_list(community, found, today=service.today_in(community))


def edit_view(deps: Deps, click: BlockActions) -> dict[str, Any]:
    """The "Edit actions" modal with the items the person may edit."""
    value = click.action.value
    if not value.isdigit():
        raise NotFound("That button is out of date.")
    with session_scope(deps.sessions) as session:
        items = service.editable_items(
            session, team_id=click.team_id, review_id=int(value), user_id=click.user_id
        )
        review = session.get_one(Review, int(value))
        return blocks.edit_modal(review_id=review.id, review_title=review.title, items=items)


def save_edits(deps: Deps, submission: ViewSubmission) -> dict[str, Any]:
    """Validate and store the "Edit actions" modal; return the ack's arguments (field errors, or close)."""
    values = submission.view.values
    try:
        review_id = int(submission.view.metadata.get("review_id", 0))
    except (ValueError, TypeError):
        review_id = 0
    edits, errors = [], {}
    for block_id in values:
        field, _, raw_id = block_id.partition(":")
        if field != ActionsField.TEXT or not raw_id.isdigit():
            continue
        item_id = int(raw_id)
        due = state_value(values, field_block(ActionsField.DUE, item_id), ActionsField.DUE)
        try:
            due_on = date.fromisoformat(due) if due else None
        except ValueError:
            errors[field_block(ActionsField.DUE, item_id)] = "Pick a date from the calendar."
            continue
        edits.append(
            ItemEdit(
                item_id=item_id,
                text=str(state_value(values, block_id, ActionsField.TEXT) or ""),
                owner_id=state_value(values, field_block(ActionsField.OWNER, item_id), ActionsField.OWNER),
                due_on=due_on,
            )
        )
    if errors:
        return {"response_action": "errors", "errors": errors}
    try:
        with session_scope(deps.sessions) as session:
            flows.save_edits(
                session,
                team_id=submission.team_id,
                user_id=submission.user_id,
                review_id=review_id,
                edits=edits,
            )
    except InvalidInput as error:
        return modal_errors(error, _blocks_of(error))
    except CopbotError as error:
        first = next(iter(values), field_block(ActionsField.TEXT, 0))
        return {"response_action": "errors", "errors": {first: str(error)}}
    return {"response_action": "clear"}


def _blocks_of(error: InvalidInput) -> dict[str, str]:
    """The service's `text:7` -> the modal's block `actions_text:7`."""
    mapped = {}
    for name in error.field_errors:
        prefix, _, raw_id = name.partition(":")
        if prefix in FIELD_PREFIXES and raw_id.isdigit():
            mapped[name] = field_block(FIELD_PREFIXES[prefix], int(raw_id))
    return mapped


def record_answer(deps: Deps, click: BlockActions) -> None:
    """Done, Not doing or a new date from the owner's DM: recorded, the DM and the review post updated."""
    action = click.action
    prefix, _, rest = action.block_id.partition(":")
    raw_id, _, dm = rest.partition(":")
    stage, _, due = dm.partition(":")
    if prefix != ActionsBlock.DM or not raw_id.isdigit() or stage not in ("due", "reminder"):
        raise NotFound("That button is out of date.")
    kind = action.action_id
    new_date = None
    if kind == ActionsAction.NEW_DATE:
        try:
            new_date = date.fromisoformat(action.selected_date or "")
        except ValueError:
            raise InvalidInput({"due": "Pick a date from the calendar."}) from None
    outcome = ItemStatus.NOT_DOING if kind == ActionsAction.NOT_DOING else ItemStatus.DONE
    entry = flows.Answer(
        team_id=click.team_id,
        user_id=click.user_id,
        item_id=int(raw_id),
        outcome=outcome,
        new_date=new_date,
        dm=(stage, due),
    )
    with session_scope(deps.sessions) as session:
        flows.answer(session, entry)
    deps.outbox.notify()
