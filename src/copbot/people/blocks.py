"""Block Kit for people: welcome and mentor DMs, roles, anonymous questions, forget-me. Pure functions."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copbot.blockkit import (
    Message,
    button,
    channel_link,
    check,
    context,
    escape,
    local_time,
    mention,
    message,
    plain,
    plural,
    section,
    truncate,
)
from copbot.communities.blocks import community_summary
from copbot.communities.models import Community, Role
from copbot.people.ids import PeopleAction, PeopleBlock, PeopleView
from copbot.people.models import PeopleSettings, Question, QuestionStatus

# A word joiner (U+2060) between characters keeps Slack from turning a URL, domain or e-mail into a link.
_JOIN = "\u2060"
_LINKISH = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)\S*|\S+@\S+|\b[\w-]+(?:\.[\w-]+)+\b")


def inert(text: str) -> str:
    """Escape user text and defuse what Slack would link: mentions, URLs, domains, e-mail addresses."""
    escaped = escape(text)
    return _LINKISH.sub(lambda m: re.sub(r"([.:/@])", r"\1" + _JOIN, m.group(0)), escaped)


def _message(text: str, blocks: list[dict[str, Any]]) -> Message:
    return message(text, blocks)


# --- onboarding ------------------------------------------------------------------------------------

HOW_TO_CONTRIBUTE = (
    "*How to contribute*\n"
    "• `/postmortem` after a piece of work: what we expected, what happened, what we learned\n"
    "• `/nominate @someone` when a colleague did something worth recognising\n"
    "• `/cop ask` to put any question to the community, anonymously\n"
    "• `/cop help` lists the rest"
)


@dataclass(frozen=True)
class NextSession:
    """The community's next ritual, for the welcome."""

    title: str
    starts_at: datetime


def _next_session_line(next_session: NextSession | None) -> str:
    if next_session is None:
        return "*Next session*: none is scheduled yet; the channel will hear first."
    when = local_time(next_session.starts_at, style="{date_long_pretty} at {time}")
    return f"*Next session*: {escape(truncate(next_session.title, 150))}, {when}. Come along!"


def welcome_dm(
    community: Community, *, mentor_id: str | None, checkin_days: int, next_session: NextSession | None = None
) -> Message:
    """The one welcome a newcomer gets: charter, next session, how to contribute, their mentor."""
    name = escape(community.name)
    if mentor_id:
        mentor_line = (
            f"*Your mentor* is {mention(mentor_id)}: they will say hello soon, and we will both check in "
            f"with you in {checkin_days} days."
        )
    else:
        mentor_line = (
            "*Your mentor*: no mentor is free right now; the leads will find you one. "
            "Members can volunteer with `/cop mentor on`."
        )
    blocks = [
        {"type": "header", "text": plain(truncate(f"Welcome to {community.name}", 150))},
        section(f"Glad you joined {channel_link(community.channel_id)}, the home of *{name}*."),
        *community_summary(community),
        section(_next_session_line(next_session)),
        section(HOW_TO_CONTRIBUTE),
        section(mentor_line),
    ]
    return _message(f"Welcome to {name}", blocks)


MENTOR_CHECKLIST = (
    "*Onboarding checklist*\n"
    "☐ Say hello within two days and ask what they hope to learn\n"
    "☐ Walk them through the channel's norms and where things live\n"
    "☐ Invite them to the next session, and go together if you can\n"
    "☐ Pair on a first contribution: a `/postmortem` or a `/nominate`\n"
    "☐ Introduce them to two members from other teams\n"
    "☐ Check in when we remind you"
)


def mentor_intro_dm(community: Community, *, newcomer_id: str, checkin_days: int) -> Message:
    """The mentor's introduction to their new mentee, with a checklist."""
    name = escape(community.name)
    blocks = [
        section(
            f":seedling: {mention(newcomer_id)} just joined *{name}* ({channel_link(community.channel_id)}) "
            "and you are their mentor. Thank you!"
        ),
        section(MENTOR_CHECKLIST),
        context(
            f"We will remind you both to check in in {checkin_days} days. "
            "`/cop mentor off` stops new pairings."
        ),
    ]
    return _message(f"You are mentoring a newcomer in {name}", blocks)


def newcomer_checkin_dm(community: Community, *, mentor_id: str | None) -> Message:
    """The newcomer's check-in, a while after the welcome."""
    name = escape(community.name)
    with_mentor = f" Have you and {mention(mentor_id)} met yet?" if mentor_id else ""
    blocks = [
        section(f":wave: How is *{name}* going so far?{with_mentor}"),
        section(
            "If something is unclear, `/cop ask` puts your question to the community anonymously, "
            f"and {channel_link(community.channel_id)} is always open."
        ),
    ]
    return _message(f"Checking in: how is {name} going?", blocks)


def mentor_checkin_dm(community: Community, *, newcomer_id: str) -> Message:
    """The mentor's check-in reminder."""
    name = escape(community.name)
    blocks = [
        section(
            f":handshake: Time to check in with {mention(newcomer_id)}, who joined *{name}* a while ago. "
            "How are they settling in? Is there a first contribution you could pair on?"
        )
    ]
    return _message(f"Time to check in with your mentee in {name}", blocks)


# --- roles, teams and settings ---------------------------------------------------------------------

ROLE_NOTES = {
    Role.LEAD: "runs the community and its set-up",
    Role.FACILITATOR: "runs sessions in turn",
    Role.MENTOR: "welcomes newcomers",
    Role.AMBASSADOR: "carries the community to other teams",
    Role.DOCUMENTER: "keeps the notes and reviews",
    Role.DISCUSSANT: "opens the discussion",
    Role.NEWCOMER: "recently joined",
}


def roles_message(community: Community, held: dict[Role, list[str]]) -> Message:
    """`/cop roles`: who holds what."""
    lines = []
    for role in Role:
        people = ", ".join(mention(u) for u in held.get(role, [])) or "_nobody yet_"
        lines.append(f"*{role.value}* ({ROLE_NOTES[role]}): {people}")
    blocks = [
        section(f"*Roles in {escape(community.name)}*"),
        section(truncate("\n".join(lines), 3000)),
        context(
            "Leads change roles with `/cop role @someone ROLE` or `-ROLE`. "
            "Anyone can `/cop mentor on` or join the facilitator rotation with `/cop rotation in`."
        ),
    ]
    return _message(f"Roles in {escape(community.name)}", blocks)


def role_changed(user_id: str, role: Role, *, grant: bool, changed: bool) -> str:
    """The ephemeral answer to `/cop role`."""
    who = mention(user_id)
    if not changed:
        return f"{who} {'already holds' if grant else 'does not hold'} the *{role.value}* role."
    rotation = ""
    if role == Role.FACILITATOR:  # the role is what puts someone in the facilitator rotation
        rotation = (
            " They are in the facilitator rotation: I'll ask them by DM when their turn comes."
            if grant
            else " They are out of the facilitator rotation."
        )
    if grant:
        return f":white_check_mark: {who} is now a *{role.value}*.{rotation}"
    return f":white_check_mark: {who} is no longer a *{role.value}*.{rotation}"


def opt_in_changed(role: Role, *, on: bool, changed: bool) -> str:
    """The ephemeral answer to `/cop mentor on|off`."""
    if not changed:
        return f"You {'already are' if on else 'are not'} a *{role.value}* here."
    return (
        ":seedling: Thank you! You will be paired with newcomers as they join."
        if on
        else "You will get no new mentees. Your current ones keep you."
    )


def settings_message(settings: PeopleSettings) -> str:
    """The workspace's people settings, after a change."""
    field = f"`{settings.team_field_id}`" if settings.team_field_id else "none (members set `/cop team`)"
    months = settings.retention_months
    retention = plural(months, "month") if months else "kept until deleted"
    return (
        ":gear: Saved. Team profile field: "
        f"{field}; check-in after {settings.checkin_days} days; "
        f"{settings.ask_daily_limit} anonymous questions a day per person; raw records: {retention}."
    )


# --- anonymous questions ---------------------------------------------------------------------------


def question_post(question: Question) -> Message:
    """The channel post of an anonymous question (or what is left of it once closed or deleted)."""
    if question.status == QuestionStatus.DELETED:
        return _message(
            "An anonymous question was deleted", [context(":wastebasket: Its asker deleted this question.")]
        )
    body = truncate(inert(question.text), 2900)
    blocks: list[dict[str, Any]] = [
        section(f":grey_question: *Anonymous question*\n{body}"),
    ]
    if question.status == QuestionStatus.CLOSED:
        blocks.append(context(":white_check_mark: The asker marked this answered. Thank you all!"))
    else:
        blocks.append(context("Asked anonymously with `/cop ask`. Answer in the thread."))
        blocks.append(
            {
                "type": "actions",
                "block_id": PeopleBlock.QUESTION_ACTIONS,
                "elements": [
                    button("Mark answered (asker)", PeopleAction.CLOSE_QUESTION, str(question.id)),
                    button("Delete (asker)", PeopleAction.DELETE_QUESTION, str(question.id), style="danger"),
                ],
            }
        )
    return _message(truncate(f"Anonymous question: {inert(question.text)}", 300), blocks)


def ask_modal(*, channel_id: str) -> dict[str, Any]:
    """The modal `/cop ask` opens when given no question."""
    view = {
        "type": "modal",
        "callback_id": PeopleView.ASK,
        "private_metadata": json.dumps({"channel_id": channel_id}),
        "title": plain("Ask anonymously"),
        "submit": plain("Ask"),
        "close": plain("Cancel"),
        "blocks": [
            section(
                "Your question is posted in the community's channel by copbot. Nobody, not even the leads, "
                "can see who asked."
            ),
            {
                "type": "input",
                "block_id": PeopleBlock.ASK_TEXT,
                "label": plain("Your question"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": PeopleAction.ASK_INPUT,
                    "multiline": True,
                    "min_length": 10,
                    "max_length": 2000,
                    "placeholder": plain("No question is too basic"),
                },
            },
        ],
    }
    return check(view, surface="modal")


def asked_message(community: Community) -> str:
    """The asker's private confirmation."""
    return (
        f":white_check_mark: Posted anonymously in {channel_link(community.channel_id)}. "
        "Answers come in its thread; its buttons let only you mark it answered or delete it."
    )


def asked_view(community: Community) -> dict[str, Any]:
    """The modal after a question is posted."""
    return notice_view("Question posted", asked_message(community))


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something, with a Done button."""
    view = {"type": "modal", "title": plain(title), "close": plain("Done"), "blocks": [section(text)]}
    return check(view, surface="modal")


def draft_matches_view(question_id: int, matches: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The question modal's second step: the library's best matches, then post anyway or stop."""
    view = {
        "type": "modal",
        "title": plain("Before you ask"),
        "close": plain("Close"),
        "blocks": draft_matches(question_id, matches)["blocks"],
    }
    return check(view, surface="modal")


def draft_matches(question_id: int, matches: Sequence[tuple[str, str]]) -> Message:
    """Before posting: the best matching reviews and playbooks, and a choice to post anyway or stop."""
    listing = "\n".join(f"• *{escape(title)}*: {inert(summary)}" for title, summary in matches)
    blocks = [
        section("*Does one of these answer it?*"),
        section(truncate(listing, 3000)),
        {
            "type": "actions",
            "block_id": PeopleBlock.DRAFT_ACTIONS,
            "elements": [
                button("Post my question anyway", PeopleAction.POST_DRAFT, str(question_id), style="primary"),
                button("That answers it", PeopleAction.DROP_DRAFT, str(question_id)),
            ],
        },
    ]
    return _message("Does one of these answer your question?", blocks)


# --- privacy ---------------------------------------------------------------------------------------


def forget_confirmation() -> Message:
    """The ephemeral confirmation `/cop forget-me` asks for."""
    blocks = [
        section(
            "*Forget me?* copbot will delete or anonymise every record that names you in this workspace: "
            "memberships and roles, your team, onboarding, and what features store about you "
            "(your reviews' and nominations' authorship included). Counts stay; your name goes. "
            "This cannot be undone."
        ),
        {
            "type": "actions",
            "block_id": PeopleBlock.FORGET_ACTIONS,
            "elements": [
                button("Forget me", PeopleAction.FORGET_ME, "forget", style="danger"),
                button("Cancel", PeopleAction.KEEP_ME, "keep"),
            ],
        },
    ]
    return _message("Forget me? Confirm with the button.", blocks)


def forgotten_message() -> str:
    """The answer once someone is forgotten."""
    return ":white_check_mark: Done: copbot no longer holds records that name you in this workspace."
