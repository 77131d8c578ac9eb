"""Block Kit for reviews, lessons, playbooks and search. Pure functions: data in, dict out.

Every piece of user text placed in mrkdwn goes through `escape` (or `link` for labels); plain_text fields
show text as typed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from copbot.actions import blocks as action_blocks
from copbot.actions.models import ActionItem
from copbot.blockkit import (
    Message,
    button,
    channel_link,
    check,
    context,
    escape,
    link,
    mention,
    message,
    option,
    plain,
    plural,
    section,
    truncate,
)
from copbot.communities.models import Community
from copbot.recognition.ids import RecognitionAction
from copbot.recognition.models import Nomination
from copbot.reviews.ids import ReviewAction, ReviewBlock, ReviewField, ReviewView
from copbot.reviews.models import Lesson, LessonStatus, Playbook, Review, Template
from copbot.reviews.search import START, STOP, Found, Page, Scope

Block = dict[str, Any]

STATUS_BADGES = {
    LessonStatus.VERIFIED: ":white_check_mark: verified",
    LessonStatus.STALE: ":hourglass: stale",
    LessonStatus.RETIRED: ":wastebasket: retired",
}


def _thank_button(item: str) -> Block:
    """Recognition's "Thank the author": it opens a nomination of the item's authors (`review:7`)."""
    return button(":pray: Thank the author", RecognitionAction.THANK_AUTHOR, item)


def _mentions(user_ids: Sequence[str]) -> str:
    return ", ".join(mention(u) for u in user_ids)


def _safe_link(url: str, label: str) -> str:
    try:
        return link(url, label)
    except ValueError:  # stored before validation existed, or edited elsewhere: show it as text
        return escape(url)


# --- the review modal ------------------------------------------------------------------------------


@dataclass
class ReviewDraft:
    """What the review modal starts with: empty, a title, a captured thread, or a review to edit."""

    template: str = Template.AFTER_ACTION.value
    title: str = ""
    context: str = ""
    expected: str = ""
    happened: str = ""
    went_well: str = ""
    to_change: str = ""
    lessons: str = ""
    lesson_owner: str | None = None
    decisions: str = ""
    action_owners: list[str] = field(default_factory=list)
    coauthors: list[str] = field(default_factory=list)
    tags: str = ""
    links: str = ""
    related: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def of_story(cls, nomination: Nomination) -> ReviewDraft:
        """A draft from a recognition's story: what they did is what happened, its outcome what went well."""
        first = nomination.action.strip().split("\n")[0].split(". ")[0].rstrip(".")
        return cls(
            template=Template.AFTER_ACTION.value,
            title=truncate(first, 150)
            if len(first) >= 3
            else f"Lesson from a recognition: {nomination.value}",
            context=f"Recognised for {nomination.value}.",
            happened=nomination.action,
            went_well=nomination.impact,
        )

    @classmethod
    def of(cls, review: Review, related: Sequence[Review] = ()) -> ReviewDraft:
        """A draft holding a stored review, for editing."""
        owners = {lesson.owner_id for lesson in review.lessons}
        return cls(
            template=review.template,
            title=review.title,
            context=review.context,
            expected=review.expected,
            happened=review.happened,
            went_well=review.went_well,
            to_change=review.to_change,
            lessons="\n".join(lesson.text for lesson in review.lessons),
            lesson_owner=owners.pop() if len(owners) == 1 else None,
            decisions=review.decisions,
            action_owners=list(review.action_owners),
            coauthors=list(review.coauthors),
            tags=", ".join(review.tags),
            links="\n".join(review.links),
            related=[(r.id, r.title) for r in related],
        )


_TEXT_FIELDS: list[tuple[ReviewField, str, str, bool, bool, int]] = [
    # (field, label, placeholder, optional, multiline, max_length)
    (ReviewField.TITLE, "Title", "e.g. Checkout outage on Black Friday", False, False, 150),
    (ReviewField.CONTEXT, "Context", "What was going on, and why it mattered", False, True, 3000),
    (ReviewField.EXPECTED, "What we expected", "The plan, or what should have happened", True, True, 3000),
    (ReviewField.HAPPENED, "What happened", "The facts, in order", False, True, 3000),
    (ReviewField.WENT_WELL, "What went well", "Keep doing these", True, True, 3000),
    (ReviewField.TO_CHANGE, "What we would change", "Do differently next time", True, True, 3000),
    (
        ReviewField.LESSONS,
        "Lessons",
        "One lesson per line: what would you tell the next team?",
        False,
        True,
        3000,
    ),
]
_LATER_FIELDS: list[tuple[ReviewField, str, str, bool, bool, int]] = [
    (
        ReviewField.DECISIONS,
        "Decisions and follow-up actions",
        "e.g. Write the failover script by Friday",
        True,
        True,
        3000,
    ),
]


def _text_input(spec: tuple[ReviewField, str, str, bool, bool, int], initial: str, hint: str = "") -> Block:
    field_id, label, placeholder, optional, multiline, max_length = spec
    element: Block = {
        "type": "plain_text_input",
        "action_id": field_id,
        "multiline": multiline,
        "max_length": max_length,
        "placeholder": plain(placeholder),
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    block: Block = {
        "type": "input",
        "block_id": field_id,
        "label": plain(label),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _users_input(field_id: ReviewField, label: str, initial: Sequence[str], hint: str) -> Block:
    element: Block = {
        "type": "multi_users_select",
        "action_id": field_id,
        "placeholder": plain("Choose people"),
    }
    if initial:
        element["initial_users"] = list(initial)
    return {
        "type": "input",
        "block_id": field_id,
        "label": plain(label),
        "optional": True,
        "hint": plain(hint),
        "element": element,
    }


def _community_block(community: Community | None, choices: Sequence[Community]) -> Block:
    """Which community a modal is for: named when the channel has one, else chosen from a list."""
    if community is not None:
        return context(f"For *{escape(community.name)}* in {channel_link(community.channel_id)}.")
    return {
        "type": "input",
        "block_id": ReviewField.COMMUNITY,
        "label": plain("Community"),
        "element": {
            "type": "static_select",
            "action_id": ReviewField.COMMUNITY,
            "placeholder": plain("Which community is this for?"),
            "options": [option(c.name, str(c.id)) for c in choices[:100]],
        },
    }


def review_modal(
    draft: ReviewDraft,
    *,
    metadata: dict[str, Any],
    community: Community | None,
    choices: Sequence[Community] = (),
    editing: bool = False,
) -> Block:
    """The review modal: the community (named, or chosen when run outside one), a template and the fields."""
    blocks: list[Block] = [_community_block(community, choices)]
    blocks.append(
        {
            "type": "input",
            "block_id": ReviewField.TEMPLATE,
            "label": plain("Template"),
            "element": {
                "type": "static_select",
                "action_id": ReviewField.TEMPLATE,
                "options": [option(t.label, t.value) for t in Template],
                "initial_option": option(Template(draft.template).label, draft.template),
            },
        }
    )
    for spec in _TEXT_FIELDS:
        hint = "Each lesson gets an owner who re-checks it later." if spec[0] == ReviewField.LESSONS else ""
        blocks.append(_text_input(spec, getattr(draft, spec[0].value.removeprefix("review_")), hint))
    owner: Block = {
        "type": "users_select",
        "action_id": ReviewField.LESSON_OWNER,
        "placeholder": plain("You"),
    }
    if draft.lesson_owner:
        owner["initial_user"] = draft.lesson_owner
    blocks.append(
        {
            "type": "input",
            "block_id": ReviewField.LESSON_OWNER,
            "label": plain("Lesson owner"),
            "optional": True,
            "hint": plain("Who re-verifies the lessons when they fall due. Leave empty for yourself."),
            "element": owner,
        }
    )
    blocks.append(_text_input(_LATER_FIELDS[0], draft.decisions, action_blocks.DECISIONS_HINT))
    blocks.append(
        _users_input(
            ReviewField.ACTION_OWNERS,
            "Action owners",
            draft.action_owners,
            "In the order of the actions above: the first person follows up the first action, and so on "
            "(you, when none). An action already saved keeps its owner: change it with Edit actions.",
        )
    )
    blocks.append(_users_input(ReviewField.COAUTHORS, "Co-authors", draft.coauthors, "They can edit it too."))
    blocks.append(
        _text_input((ReviewField.TAGS, "Tags", "e.g. database, on-call", True, False, 300), draft.tags)
    )
    blocks.append(
        _text_input((ReviewField.LINKS, "Links", "One http(s) link per line", True, True, 3000), draft.links)
    )
    related: Block = {
        "type": "multi_external_select",
        "action_id": ReviewField.RELATED,
        "min_query_length": 0,
        "placeholder": plain("Search earlier reviews by title"),
    }
    if draft.related:
        related["initial_options"] = [option(title, str(rid)) for rid, title in draft.related]
    blocks.append(
        {
            "type": "input",
            "block_id": ReviewField.RELATED,
            "label": plain("Related earlier reviews"),
            "optional": True,
            "element": related,
        }
    )
    view = {
        "type": "modal",
        "callback_id": ReviewView.REVIEW,
        "private_metadata": json.dumps(metadata),
        "title": plain("Edit review" if editing else "After-action review"),
        "submit": plain("Save" if editing else "Share"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }
    return check(view, surface="modal")


def related_options(reviews: Sequence[Review]) -> Block:
    """The answer to the "related reviews" type-ahead."""
    return {"options": [option(r.title, str(r.id)) for r in reviews[:100]]}


def saved_view(review: Review, community: Community, *, created: bool) -> Block:
    """The modal shown after a review is saved."""
    verb = "shared" if created else "updated"
    text = f":white_check_mark: *{escape(review.title)}* is {verb} in {channel_link(community.channel_id)}."
    later = "To change it later, find it with `/cop search`: your own reviews carry an *Edit* button there."
    view = {
        "type": "modal",
        "title": plain("Review saved"),
        "close": plain("Done"),
        "blocks": [section(text), context(later)],
    }
    return check(view, surface="modal")


# --- the review's channel post ---------------------------------------------------------------------


def review_message(
    review: Review,
    *,
    community: Community,
    related: Sequence[Review] = (),
    applied: int = 0,
    items: Sequence[ActionItem] = (),
    today: date | None = None,
    origin: Nomination | None = None,
) -> Message:
    """The readable summary posted in the community channel, with its buttons and its action items' state
    (as of `today`, the community's date)."""
    byline = f"By {mention(review.author_id)}"
    if review.coauthors:
        byline += f" with {_mentions(review.coauthors)}"
    byline += f" · {channel_link(community.channel_id)}"
    if review.tags:
        byline += " · " + " ".join(f"`{escape(tag)}`" for tag in review.tags)
    blocks: list[Block] = [
        {"type": "header", "text": plain(truncate(f"{review.kind.label}: {review.title}", 150))},
        context(byline),
    ]
    parts = [
        ("Context", review.context),
        ("What we expected", review.expected),
        ("What happened", review.happened),
        ("What went well", review.went_well),
        ("What we would change", review.to_change),
    ]
    blocks += [section(f"*{label}*\n{escape(text)}") for label, text in parts if text]
    blocks.append(section(_lessons_text(review)))
    if items and today is not None:
        also = review.action_owners[len(items) :]
        blocks.append(action_blocks.items_section(items, today=today, also=also))
    elif review.decisions or review.action_owners:
        blocks.append(section(_actions_text(review)))
    if review.links:
        links = "\n".join(f"• {_safe_link(url, link_label(url))}" for url in review.links)
        blocks.append(section(f"*Links*\n{links}"))
    if related:
        blocks.append(section("*Related reviews*\n" + "\n".join(f"• {escape(r.title)}" for r in related)))
    notes = []
    if review.occurrence_id is not None:
        notes.append("Written after a community session.")
    if origin is not None:
        who = _mentions(origin.nominee_ids) or "a member"
        notes.append(f"Turned from the recognition of {who} for _{escape(origin.value)}_.")
    if applied:
        notes.append(f":raised_hands: Applied by {plural(applied, 'member')}.")
    if review.revision > 1:
        notes.append("Edited.")
    if notes:
        blocks.append(context(" ".join(notes)))
    # Only what every member may do: its authors edit it from `/cop search` (see `saved_view`).
    buttons = [
        button("We applied this", ReviewAction.APPLIED, f"review:{review.id}", style="primary"),
        button("Promote to playbook", ReviewAction.PROMOTE, str(review.id)),
        _thank_button(f"review:{review.id}"),
    ]
    if items:  # its authors and the actions' owners may edit them; others are told so
        buttons.append(action_blocks.edit_button(review.id))
    blocks.append({"type": "actions", "block_id": ReviewBlock.ACTIONS, "elements": buttons})
    text = f"{review.kind.label}: {escape(review.title)}"
    return message(text, blocks)


def _lessons_text(review: Review) -> str:
    """The lessons, each with who keeps it true (named once when one person owns them all)."""
    owners = {lesson.owner_id for lesson in review.lessons}
    if len(owners) == 1:
        (owner,) = owners
        lines = "\n".join(f"• {escape(lesson.text)}" for lesson in review.lessons)
        return f"*Lessons* · owner {mention(owner)}, who re-checks them\n{lines}"
    lines = "\n".join(
        f"• {escape(lesson.text)} · _owner {mention(lesson.owner_id)}_" for lesson in review.lessons
    )
    return f"*Lessons*\n{lines}"


def _actions_text(review: Review) -> str:
    """Each action with its owner: the modal asks for owners in the actions' order."""
    actions = [line.strip(" -•*\t") for line in review.decisions.splitlines() if line.strip(" -•*\t")]
    owners = list(review.action_owners)
    lines = [
        f"• {escape(action)}" + (f" → {mention(owners[n])}" if n < len(owners) else "")
        for n, action in enumerate(actions)
    ]
    if len(owners) > len(actions):
        lines.append(f"Also following up: {_mentions(owners[len(actions) :])}")
    return "*Decisions and follow-up actions*\n" + "\n".join(lines)


def link_label(url: str) -> str:
    """A short, readable name for a link: its site and last path part, or "Slack thread"."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    if host.endswith("slack.com") and parts.path.startswith("/archives/"):
        return "Slack thread"
    last = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) if parts.path.strip("/") else ""
    return truncate(f"{host}: {last}" if last else host, 80)


# --- playbooks -------------------------------------------------------------------------------------


def playbook_modal(
    *,
    metadata: dict[str, Any],
    community: Community | None,
    choices: Sequence[Community] = (),
    title: str = "",
    when: str = "",
    steps: str = "",
) -> Block:
    """The playbook modal, empty or pre-filled from a review's lessons."""
    blocks: list[Block] = [_community_block(community, choices)]
    blocks += [
        _text_input(
            (ReviewField.PLAYBOOK_TITLE, "Title", "e.g. Database failover", False, False, 150), title
        ),
        _text_input(
            (
                ReviewField.PLAYBOOK_WHEN,
                "When to use it",
                "The situation that calls for it",
                False,
                True,
                3000,
            ),
            when,
        ),
        _text_input((ReviewField.PLAYBOOK_STEPS, "Steps", "One step per line", False, True, 3000), steps),
    ]
    view = {
        "type": "modal",
        "callback_id": ReviewView.PLAYBOOK,
        "private_metadata": json.dumps(metadata),
        "title": plain("New playbook"),
        "submit": plain("Share"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }
    return check(view, surface="modal")


def playbook_message(
    playbook: Playbook, *, source: Review | None = None, source_url: str | None = None, applied: int = 0
) -> Message:
    """The playbook as posted in the community channel, linked back to the review it came from."""
    steps = "\n".join(f"{n}. {escape(step)}" for n, step in enumerate(playbook.steps.splitlines(), 1))
    byline = f"Playbook by {mention(playbook.author_id)}"
    if source is not None:
        title = _safe_link(source_url, source.title) if source_url else f"*{escape(source.title)}*"
        byline += f" · from the review {title}"
    blocks: list[Block] = [
        {"type": "header", "text": plain(truncate(f"Playbook: {playbook.title}", 150))},
        context(byline),
        section(f"*When to use it*\n{escape(playbook.when_to_use)}"),
        section(f"*Steps*\n{steps}"),
    ]
    if applied:
        blocks.append(context(f":raised_hands: Applied by {plural(applied, 'member')}."))
    blocks.append(
        {
            "type": "actions",
            "block_id": ReviewBlock.ACTIONS,
            "elements": [
                button("We applied this", ReviewAction.APPLIED, f"playbook:{playbook.id}", style="primary"),
                _thank_button(f"playbook:{playbook.id}"),
            ],
        }
    )
    return message(f"Playbook: {escape(playbook.title)}", blocks)


def playbook_list(community: Community, items: Sequence[tuple[Playbook, int]]) -> Message:
    """The ephemeral answer to `/cop playbook`: the community's playbooks and a button for a new one."""
    blocks: list[Block] = [section(f"*Playbooks of {escape(community.name)}*")]
    if not items:
        blocks.append(
            section("None yet. Start one, or promote a review's lessons with *Promote to playbook*.")
        )
    for playbook, applied in items:
        first = playbook.when_to_use.splitlines()[0] if playbook.when_to_use else ""
        note = f" · applied by {applied}" if applied else ""
        blocks.append(section(f"*{escape(playbook.title)}*{note}\n{escape(truncate(first, 200))}"))
    blocks.append(
        {
            "type": "actions",
            "block_id": ReviewBlock.ACTIONS,
            "elements": [
                button("New playbook", ReviewAction.NEW_PLAYBOOK, str(community.id), style="primary")
            ],
        }
    )
    return message(f"Playbooks of {escape(community.name)}", blocks)


# --- search ----------------------------------------------------------------------------------------


def _snippet(raw: str) -> str:
    """Escape a snippet and turn the engine's match marks into bold."""
    flat = " ".join(raw.split())
    return escape(flat).replace(START, "*").replace(STOP, "*")


def search_results(
    page: Page, found: Sequence[Found], *, at: datetime, viewer: str, home: Community | None = None
) -> Message:
    """One page of search results for `viewer`, with Previous / Next buttons, Edit on their reviews
    (the channel post shows only what every member may do), and a toggle between the `home` community
    (the channel's) and every community."""
    query = escape(truncate(page.query, 100))
    where = _search_where(page, home)
    if not found:
        hint = "Try other or fewer words." if page.page == 1 else "No more results."
        blocks: list[Block] = [section(f"Nothing matches *{query}*{where}. {hint}")]
    else:
        blocks = [section(f":mag: Results for *{query}*{where} (page {page.page})")]
    for item in found:
        title = _safe_link(item.url, item.title) if item.url else f"*{escape(item.title)}*"
        where = f" · {channel_link(item.community.channel_id)}" if item.community else ""
        label = "Review" if item.kind == "review" else "Playbook"
        text = f"{title}\n_{label}{where}_\n{_snippet(item.snippet)}"
        if item.lessons:
            text += "\n" + "\n".join(
                f"{STATUS_BADGES[lesson.status_at(at)]}: {escape(truncate(lesson.text, 150))}"
                for lesson in item.lessons[:3]
            )
        blocks.append({"type": "divider"})
        result = section(text)
        if viewer in item.editors:
            result["accessory"] = button("Edit", ReviewAction.EDIT, str(item.item_id))
        blocks.append(result)
    buttons = []
    if page.page > 1:
        previous = _page_value(page.query, page.page - 1, page.scope)
        buttons.append(button("Previous", ReviewAction.SEARCH_PREVIOUS, previous))
    if page.has_more:
        following = _page_value(page.query, page.page + 1, page.scope)
        buttons.append(button("Next", ReviewAction.SEARCH_NEXT, following))
    if page.scope.home is not None:
        label = "Only this community" if page.scope.everywhere else "Search every community"
        toggle = _page_value(page.query, 1, page.scope.toggled())
        buttons.append(button(label, ReviewAction.SEARCH_SCOPE, toggle))
    if buttons:
        blocks.append({"type": "actions", "block_id": ReviewBlock.SEARCH_NAV, "elements": buttons})
    return message(f"Search results for {query}", blocks)


def _search_where(page: Page, home: Community | None) -> str:
    if page.scope.everywhere:
        return " in every community"
    return f" in {channel_link(home.channel_id)}" if home else ""


def _page_value(query: str, page: int, scope: Scope) -> str:
    return json.dumps({"q": query[:200], "p": page, "h": scope.home, "all": scope.everywhere})


def parse_page_value(value: str) -> tuple[str, int, Scope]:
    """Read a paging or scope button's value back: (query, page, scope)."""
    try:
        data = json.loads(value)
        home = data.get("h")
        scope = Scope(home=home if isinstance(home, int) else None, everywhere=data.get("all") is not False)
        return str(data["q"])[:200], max(1, int(data["p"])), scope
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", 1, Scope()


# --- direct messages -------------------------------------------------------------------------------


def lesson_due_message(lesson: Lesson, *, community: Community) -> Message:
    """The owner's one DM when a lesson is due: still true / update / retire."""
    review = lesson.review
    blocks = [
        section(
            f":seedling: A lesson you own in {channel_link(community.channel_id)} is due for a check:\n"
            f">{escape(lesson.text)}\n_From the review *{escape(review.title)}*._ Does it still hold?"
        ),
        {
            "type": "actions",
            "block_id": ReviewBlock.LESSON_ACTIONS,
            "elements": [
                button("Still true", ReviewAction.LESSON_TRUE, str(lesson.id), style="primary"),
                button("Update it", ReviewAction.LESSON_UPDATE, str(lesson.id)),
                button("Retire it", ReviewAction.LESSON_RETIRE, str(lesson.id), style="danger"),
            ],
        },
    ]
    return message("A lesson you own is due for a check", blocks)


def lesson_answered(lesson: Lesson, *, at: datetime) -> Message:
    """What replaces the lesson DM once its owner answered."""
    status = lesson.status_at(at)
    if status == LessonStatus.RETIRED:
        note = "Retired: search now shows it as retired."
    else:
        note = f"Verified. I'll ask again on {lesson.verify_due_at:%Y-%m-%d}."
    text = f">{escape(lesson.text)}\n{STATUS_BADGES[status]} · {note}"
    return message("Lesson updated", [section(text)])


def lesson_modal(lesson: Lesson) -> Block:
    """A small modal to reword a lesson."""
    view = {
        "type": "modal",
        "callback_id": ReviewView.LESSON,
        "private_metadata": json.dumps({"lesson_id": lesson.id}),
        "title": plain("Update the lesson"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            _text_input(
                (ReviewField.LESSON_TEXT, "Lesson", "What holds today", False, True, 500), lesson.text
            )
        ],
    }
    return check(view, surface="modal")


def capture_message(
    *, community: Community, channel_id: str, message_ts: str, reactor: str | None
) -> Message:
    """The one DM to a message's author when someone flags it with the capture emoji."""
    who = mention(reactor) if reactor else "Someone"
    text = (
        f":bulb: {who} flagged a message of yours in {channel_link(channel_id)} as a lesson worth keeping. "
        f"Record it as an after-action review so *{escape(community.name)}* can find it later?"
    )
    value = json.dumps({"c": channel_id, "ts": message_ts})
    blocks = [
        section(text),
        {
            "type": "actions",
            "block_id": ReviewBlock.ACTIONS,
            "elements": [button("Record it", ReviewAction.RECORD_CAPTURED, value, style="primary")],
        },
    ]
    return message("Record your message as a lesson?", blocks)


def session_reminder(*, community: Community, occurrence_id: int) -> Message:
    """The facilitator's one reminder when a session has no review yet."""
    text = (
        f":memo: The session you facilitated in {channel_link(community.channel_id)} has no after-action "
        "review yet. Two minutes now saves the lessons for everyone."
    )
    blocks = [
        section(text),
        {
            "type": "actions",
            "block_id": ReviewBlock.ACTIONS,
            "elements": [
                button(
                    "What did we learn?",
                    ReviewAction.OPEN_REVIEW,
                    json.dumps({"o": occurrence_id, "c": community.channel_id}),
                    style="primary",
                )
            ],
        },
    ]
    return message("Your session has no review yet", blocks)
