"""Block Kit for rituals: the channel posts, the facilitator DMs, the schedule modals and listings.

Pure functions: data in, dict out, each checked against Slack's limits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from copbot.blockkit import (
    Message,
    actions,
    button,
    check,
    context,
    escape,
    header,
    local_time,
    mention,
    message,
    option,
    plain,
    plural,
    section,
    truncate,
)
from copbot.communities.models import Community
from copbot.rituals import timing
from copbot.rituals.ids import RitualAction, RitualBlock, RitualField, RitualView, SessionAction
from copbot.rituals.models import (
    AwayPeriod,
    Exclusion,
    Frequency,
    Occurrence,
    OccurrenceKind,
    RitualSchedule,
    ScheduleKind,
    ScheduleStatus,
)
from copbot.rituals.service import PULSE_MINIMUM, Planned, Tally

PREP_CHECKLIST = (
    "Pick one question or story to open with",
    "Share any material in the channel a day ahead",
    "Keep five minutes at the end for what we learned",
)
FREQUENCY_LABELS = {
    Frequency.WEEKLY: "Every week",
    Frequency.BIWEEKLY: "Every two weeks",
    Frequency.MONTHLY: "Every month (same weekday and week)",
}
PULSE_LABELS = {
    "value": "How valuable is this community to you?",
    "safety": "How safe do you feel to speak up?",
}


def _message(text: str, blocks: list[dict[str, Any]]) -> Message:
    return message(truncate(text, 3000), blocks)


def _when(occurrence: Occurrence) -> str:
    """When it happens, in each reader's own time zone (Slack renders the token per reader)."""
    text = local_time(occurrence.starts_at)
    if occurrence.ends_at is not None:
        minutes = int((occurrence.ends_at - occurrence.starts_at).total_seconds() // 60)
        text += f" ({minutes} min)"
    return text


def _names(users: Sequence[str]) -> str:
    return ", ".join(mention(u) for u in users)


# --- channel posts ---------------------------------------------------------------------------------


def session_post(
    community: Community, schedule: RitualSchedule, occurrence: Occurrence, tally: Tally, *, started: bool
) -> Message:
    """The reminder before a session: topic, time, facilitator, RSVP counts; once started, "I was there"."""
    facilitator = mention(occurrence.facilitator_id) if occurrence.facilitator_id else "_to be confirmed_"
    blocks = [
        header(f"Session: {schedule.title}"),
        section(
            f"*When:* {_when(occurrence)}\n*Facilitator:* {facilitator}\n*Topic:* {escape(schedule.title)}"
        ),
        context(
            f":white_check_mark: {tally.going} going  ·  :no_entry: {tally.cant} can't make it  ·  "
            f":hourglass: {tally.async_} async"
            + (f"  ·  :raised_hand: {tally.attended} were there" if started else "")
        ),
    ]
    value = str(occurrence.id)
    if started:
        blocks.append(
            actions(
                button("I was there", RitualAction.ATTENDED, value, style="primary"),
                block_id=RitualBlock.RSVP,
            )
        )
    else:
        blocks.append(
            actions(
                button("Going", RitualAction.GOING, value, style="primary"),
                button("Can't make it", RitualAction.CANT, value),
                button("Async", RitualAction.ASYNC, value),
                block_id=RitualBlock.RSVP,
            )
        )
    return _message(
        f"Session: {escape(schedule.title)}, {timing.local_text(occurrence.starts_at, community.timezone)}",
        blocks,
    )


def kickoff_post(
    community: Community, schedule: RitualSchedule, occurrence: Occurrence, tally: Tally
) -> Message:
    """The cycle's kickoff: purpose, goals, what it will try, how to take part, a sign-up button."""
    blocks = [header(f"Kickoff: {schedule.title}"), section(f"*Purpose*\n{escape(community.purpose)}")]
    if community.learning_goals:
        blocks.append(section(f"*Learning goals*\n{escape(community.learning_goals)}"))
    if schedule.plan:
        blocks.append(section(f"*What this cycle will try*\n{escape(schedule.plan)}"))
    blocks += [
        section(
            "*How to take part*\nSign up below, come to the sessions, share what you try in this channel. "
            f"Mid-point reflection and finale demos follow; the finale is on "
            f"{local_time(schedule.finale_at or occurrence.starts_at)}."
        ),
        context(
            f":raised_hands: {len(tally.signed_up)} signed up"
            + (f": {_names(tally.signed_up[:30])}" if tally.signed_up else "")
        ),
        actions(
            button("Sign me up", RitualAction.SIGN_UP, str(occurrence.id), style="primary"),
            block_id=RitualBlock.SIGN_UP,
        ),
    ]
    return _message(f"Kickoff: {escape(schedule.title)}", blocks)


def midpoint_post(
    community: Community,
    schedule: RitualSchedule,
    occurrence: Occurrence,
    pulse: dict[str, tuple[int, float | None]],
) -> Message:
    """The mid-point reflection: what works, what to change, and an anonymous 1-5 pulse."""
    blocks = [
        header(f"Mid-point reflection: {schedule.title}"),
        section("We are halfway. In this thread, tell us:\n• *What is working?*\n• *What should we change?*"),
    ]
    for question, block_id in (("value", RitualBlock.PULSE_VALUE), ("safety", RitualBlock.PULSE_SAFETY)):
        answered, mean = pulse.get(question, (0, None))
        summary = (
            f"average *{mean:.1f}* / 5 from {answered} answers"
            if mean is not None
            else f"{answered} answered; the average shows once {PULSE_MINIMUM} have"
        )
        blocks += [
            section(f"*{PULSE_LABELS[question]}* (1 = not at all, 5 = very)\n{summary}"),
            actions(
                *(button(str(n), RitualAction(f"ritual_pulse_{n}"), str(occurrence.id)) for n in range(1, 6)),
                block_id=block_id,
            ),
        ]
    blocks.append(context(":lock: Answers are anonymous: only the averages are shown, never who answered."))
    return _message(f"Mid-point reflection: {escape(schedule.title)}", blocks)


def finale_post(
    community: Community, schedule: RitualSchedule, occurrence: Occurrence, tally: Tally
) -> Message:
    """The call for demos before the finale, with a sign-up and the line-up so far."""
    lineup = (
        "\n".join(f"{i}. {mention(u)}" for i, u in enumerate(tally.signed_up[:40], start=1))
        or "_Nobody yet: be first!_"
    )
    blocks = [
        header(f"Finale demos: {schedule.title}"),
        section(
            f"The finale is on *{local_time(occurrence.starts_at)}*. "
            "Show what you tried this cycle: a demo, a story, a lesson. Five minutes each."
        ),
        section(f"*Line-up*\n{lineup}"),
        actions(
            button("Sign me up to demo", RitualAction.SIGN_UP, str(occurrence.id), style="primary"),
            block_id=RitualBlock.SIGN_UP,
        ),
    ]
    return _message(f"Call for demos: {escape(schedule.title)} finale", blocks)


def lineup_post(
    community: Community, schedule: RitualSchedule, occurrence: Occurrence, tally: Tally
) -> Message:
    """The finale's line-up, posted when it starts."""
    lineup = "\n".join(f"{i}. {mention(u)}" for i, u in enumerate(tally.signed_up[:40], start=1))
    text = f"*Line-up*\n{lineup}" if lineup else "Nobody signed up to demo: share what you tried, open floor!"
    blocks = [header(f"Finale: {schedule.title} starts now"), section(text)]
    return _message(f"Finale: {escape(schedule.title)} starts now", blocks)


def skip_note(
    community: Community, schedule: RitualSchedule, occurrence: Occurrence, exclusion: Exclusion
) -> Message:
    """The "no session this week" note."""
    reason = f" ({escape(exclusion.reason)})" if exclusion.reason else ""
    text = (
        f":palm_tree: No *{escape(schedule.title)}* session on "
        f"{local_time(occurrence.starts_at)}{reason}. See you next time!"
    )
    return _message(f"No {escape(schedule.title)} session this time", [section(text)])


def review_prompt(occurrence: Occurrence) -> Message:
    """The after-action prompt in a session's thread."""
    blocks = [
        section("*What did we learn?* Capture it while it is fresh: a short after-action review."),
        actions(
            button(
                "What did we learn?",
                SessionAction.OPEN_REVIEW_FROM_SESSION,
                str(occurrence.id),
                style="primary",
            ),
            block_id=RitualBlock.PROMPT,
        ),
    ]
    return _message("What did we learn?", blocks)


# --- DMs -------------------------------------------------------------------------------------------


def ask_dm(
    community: Community,
    schedule: RitualSchedule,
    occurrence: Occurrence,
    ask_id: int,
    *,
    answer: str | None,
    reminder: bool = False,
) -> Message:
    """The facilitator request: date, topic, prep checklist, Accept / Swap / Skip (or the answer given)."""
    checklist = "\n".join(f"• {item}" for item in PREP_CHECKLIST)
    intro = ":bell: Reminder: we still need your answer. " if reminder else ""
    blocks = [
        section(
            f"{intro}Would you facilitate *{escape(schedule.title)}* for *{escape(community.name)}* on "
            f"*{_when(occurrence)}*?"
        ),
        section(f"*Prep checklist*\n{checklist}"),
    ]
    if answer is None:
        value = str(ask_id)
        blocks.append(
            actions(
                button("Accept", RitualAction.ACCEPT, value, style="primary"),
                button("Swap with the next", RitualAction.SWAP, value),
                button("Skip this time", RitualAction.SKIP, value),
                block_id=RitualBlock.ASK,
            )
        )
    else:
        blocks.append(context(answer))
    return _message(f"Would you facilitate {escape(schedule.title)}?", blocks)


def escalation_dm(
    community: Community, schedule: RitualSchedule, occurrence: Occurrence, user_id: str
) -> Message:
    """Tell the lead that the facilitator asked has not answered."""
    text = (
        f":warning: {mention(user_id)} has not answered the request to facilitate *{escape(schedule.title)}* "
        f"({escape(community.name)}) on {_when(occurrence)}, even after a reminder. "
        "You may want to find someone, or facilitate yourself."
    )
    return _message("A session still has no facilitator", [section(text)])


def unfilled_dm(community: Community, schedule: RitualSchedule, occurrence: Occurrence) -> Message:
    """Tell the lead that nobody in the rotation is left to ask."""
    text = (
        f":warning: Nobody in the rotation of *{escape(community.name)}* is left to facilitate "
        f"*{escape(schedule.title)}* on {_when(occurrence)}. "
        "`/cop rotation` shows who is in."
    )
    return _message("A session has no facilitator", [section(text)])


def archived_dm(community: Community) -> Message:
    """Tell the lead that the channel was archived and rituals are paused."""
    text = (
        f":pause_button: The channel of *{escape(community.name)}* is archived, so its rituals are paused. "
        "Unarchive it and resume them with `/cop schedule list`, or delete them there."
    )
    return _message("Rituals paused: the channel is archived", [section(text)])


def preview_dm(community: Community, schedule: RitualSchedule, posts: Sequence[Message]) -> list[Message]:
    """The preview: an intro, then each ritual post as members will see it."""
    intro = _message(
        f"Preview of {escape(schedule.title)}",
        [
            section(
                f":eyes: *Preview of {escape(schedule.title)}* for *{escape(community.name)}*: "
                f"each post follows as members will see it ({plural(len(posts), 'post')}). "
                "Nothing was posted in the channel."
            )
        ],
    )
    return [intro, *posts]


# --- modals ----------------------------------------------------------------------------------------


class Then(StrEnum):
    """What the schedule modal does after saving: going live is the default and the primary action."""

    LIVE = "live"
    DRAFT = "draft"
    PREVIEW = "preview"


THEN_CHOICES = {
    Then.LIVE: ("Go live: post as scheduled", "Save and go live"),
    Then.DRAFT: ("Keep it as a draft: nothing is posted", "Save as draft"),
    Then.PREVIEW: ("Keep it as a draft and send me a preview by DM", "Save, preview to me"),
}


def _then(then: Then) -> dict[str, Any]:
    """The choice beside the submit button; choosing one relabels the button (dispatch_action)."""
    options = [option(label, value) for value, (label, _) in THEN_CHOICES.items()]
    return {
        "type": "input",
        "block_id": RitualField.THEN,
        "label": plain("When I save"),
        "dispatch_action": True,
        "element": {
            "type": "radio_buttons",
            "action_id": RitualField.THEN,
            "options": options,
            "initial_option": options[list(THEN_CHOICES).index(then)],
        },
    }


def _input(
    field: RitualField,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> dict[str, Any]:
    block = {
        "type": "input",
        "block_id": field,
        "label": plain(label),
        "optional": optional,
        "element": {**element, "action_id": field},
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _text(initial: str | None, *, multiline: bool = False, max_length: int = 150) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial
    return element


def _date(initial: date | None) -> dict[str, Any]:
    return {"type": "datepicker", **({"initial_date": initial.isoformat()} if initial else {})}


def _time(initial: str | None) -> dict[str, Any]:
    return {"type": "timepicker", **({"initial_time": initial} if initial else {})}


def _select(options: Sequence[tuple[str, str]], initial: str) -> dict[str, Any]:
    built = [option(t, v) for t, v in options]
    chosen = next((o for o in built if o["value"] == initial), built[0])
    return {"type": "static_select", "options": built, "initial_option": chosen}


def _local(instant: datetime | None, zone: str) -> tuple[date | None, str | None]:
    if instant is None:
        return None, None
    from zoneinfo import ZoneInfo

    local = instant.astimezone(ZoneInfo(zone))
    return local.date(), f"{local:%H:%M}"


def cycle_modal(
    community: Community, schedule: RitualSchedule | None, then: Then = Then.LIVE
) -> dict[str, Any]:
    """The modal that plans a cycle: kickoff, mid-point and finale in the community's zone."""
    zone = community.timezone
    blocks: list[dict[str, Any]] = [
        section(f"Times are in *{escape(zone)}*, the community's time zone."),
        _input(RitualField.TITLE, "Cycle name", _text(schedule.title if schedule else None)),
        _input(
            RitualField.PLAN,
            "What this cycle will try",
            _text(schedule.plan if schedule else None, multiline=True, max_length=2000),
            optional=True,
        ),
    ]
    for name, label in (
        ("kickoff", "Kickoff"),
        ("midpoint", "Mid-point reflection"),
        ("finale", "Finale demos"),
    ):
        day, at = _local(getattr(schedule, f"{name}_at") if schedule else None, zone)
        blocks.append(_input(RitualField(f"ritual_{name}_date"), f"{label}: date", _date(day)))
        blocks.append(_input(RitualField(f"ritual_{name}_time"), f"{label}: time", _time(at or "10:00")))
    return _modal(RitualView.CYCLE, "Plan a cycle", community, schedule, blocks, then)


def sessions_modal(
    community: Community, schedule: RitualSchedule | None, then: Then = Then.LIVE
) -> dict[str, Any]:
    """The modal that schedules recurring sessions in the community's zone."""
    durations = [
        (
            f"{m} minutes"
            if m < 60
            else f"{m // 60} h {m % 60:02d}"
            if m % 60
            else f"{m // 60} hour{'s' if m > 60 else ''}",
            str(m),
        )
        for m in (30, 45, 60, 90, 120)
    ]
    blocks = [
        section(f"Times are in *{escape(community.timezone)}*, the community's time zone."),
        _input(RitualField.TITLE, "Topic", _text(schedule.title if schedule else None)),
        _input(
            RitualField.FREQUENCY,
            "How often",
            _select(
                [(label, f.value) for f, label in FREQUENCY_LABELS.items()],
                schedule.frequency if schedule and schedule.frequency else Frequency.WEEKLY,
            ),
        ),
        _input(
            RitualField.FIRST_DATE,
            "First session",
            _date(schedule.first_date if schedule else None),
            hint="Sessions repeat on this date's weekday.",
        ),
        _input(RitualField.TIME, "Time", _time(schedule.local_time if schedule else "15:00")),
        _input(
            RitualField.ALT_TIME,
            "Alternate time (every other session)",
            _time(schedule.alt_local_time if schedule else None),
            optional=True,
            hint="For members in far time zones: every second session uses this time.",
        ),
        _input(
            RitualField.DURATION,
            "Length",
            _select(durations, str(schedule.duration_minutes if schedule else 60)),
        ),
        _input(
            RitualField.ROTATION_DAYS,
            "Ask the next facilitator",
            _select(
                [(f"{plural(d, 'day')} before", str(d)) for d in (1, 2, 3, 5, 7, 14)],
                str(schedule.rotation_days if schedule else 3),
            ),
        ),
    ]
    return _modal(RitualView.SESSIONS, "Recurring sessions", community, schedule, blocks, then)


def _modal(
    callback: RitualView,
    title: str,
    community: Community,
    schedule: RitualSchedule | None,
    blocks: list[dict[str, Any]],
    then: Then,
) -> dict[str, Any]:
    metadata = {"channel_id": community.channel_id, "schedule_id": schedule.id if schedule else None}
    if schedule is None or schedule.status == ScheduleStatus.DRAFT:
        blocks = [*blocks, _then(then)]
        submit = THEN_CHOICES[then][1]
    else:  # a live or paused schedule stays as it is; the listing pauses or resumes it
        submit = "Save changes"
    view = {
        "type": "modal",
        "callback_id": callback,
        "private_metadata": json.dumps(metadata),
        "title": plain(title),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "blocks": blocks,
    }
    return check(view, surface="modal")


POST_NAMES = {
    OccurrenceKind.SESSION: "the session reminder",
    OccurrenceKind.KICKOFF: "the kickoff",
    OccurrenceKind.MIDPOINT: "the mid-point reflection",
    OccurrenceKind.FINALE: "the call for finale demos",
}


def _starts(plan: Planned) -> str:
    return "" if plan.post_at == plan.starts_at else f" (starts {local_time(plan.starts_at, style='{time}')})"


def saved_view(
    schedule: RitualSchedule, community: Community, coming: Sequence[Planned], *, previewed: bool = False
) -> dict[str, Any]:
    """The modal after a save: whether it is live, and what will be posted where and when."""
    title, channel = escape(schedule.title), f"<#{community.channel_id}>"
    live = schedule.status == ScheduleStatus.ACTIVE
    if live:
        head = f":large_green_circle: *{title}* is live. I'll post in {channel}:"
    elif schedule.status == ScheduleStatus.PAUSED:
        head = f":pause_button: *{title}* is paused: nothing is posted until it resumes, then in {channel}:"
    else:
        head = (
            f":memo: *{title}* is saved as a draft: nothing is posted until it goes live. "
            f"Once live, I'll post in {channel}:"
        )
    lines = [f"• {local_time(plan.post_at)}: {POST_NAMES[plan.kind]}{_starts(plan)}" for plan in coming[:5]]
    lines = lines or ["• nothing in the coming weeks"]
    more = "\n…and so on, on the same rhythm." if len(coming) > 5 else ""
    blocks = [section(head + "\n" + "\n".join(lines) + more)]
    notes = ["Times show in your own time zone."]
    if previewed:
        notes.append(":eyes: A preview of each post is on its way to you by DM.")
    if schedule.kind == ScheduleKind.SESSIONS:
        notes.append(f"The facilitator is asked by DM {schedule.rotation_days} days ahead (`/cop rotation`).")
    blocks.append(context(" ".join(notes)))
    if not live:
        blocks.append(actions(*_schedule_buttons(schedule, with_edit=False), block_id=RitualBlock.NEW))
    view = {"type": "modal", "title": plain("Schedule saved"), "close": plain("Done"), "blocks": blocks}
    return check(view, surface="modal")


# --- listings --------------------------------------------------------------------------------------


def _schedule_buttons(schedule: RitualSchedule, *, with_edit: bool = True) -> list[dict[str, Any]]:
    value = str(schedule.id)
    buttons = [button("Send me a preview", RitualAction.PREVIEW, value)]
    if schedule.status == ScheduleStatus.DRAFT:
        buttons.append(button("Go live", RitualAction.GO_LIVE, value, style="primary"))
    elif schedule.status == ScheduleStatus.ACTIVE:
        buttons.append(button("Pause", RitualAction.PAUSE, value))
    else:
        buttons.append(button("Resume", RitualAction.RESUME, value, style="primary"))
    if with_edit:
        buttons.append(button("Edit", RitualAction.EDIT, value))
        delete = button("Delete", RitualAction.DELETE, value, style="danger")
        delete["confirm"] = {
            "title": plain("Delete this schedule?"),
            "text": {"type": "mrkdwn", "text": "Its coming posts are cancelled; past attendance goes too."},
            "confirm": plain("Delete"),
            "deny": plain("Keep it"),
        }
        buttons.append(delete)
    return buttons


def describe(schedule: RitualSchedule, zone: str) -> str:
    """One line on what a schedule does and when."""
    if schedule.kind == ScheduleKind.CYCLE:
        parts = [
            f"{label} {local_time(at)}"
            for label, at in (
                ("kickoff", schedule.kickoff_at),
                ("mid-point", schedule.midpoint_at),
                ("finale", schedule.finale_at),
            )
            if at
        ]
        return "Cycle: " + "; ".join(parts)
    label = FREQUENCY_LABELS.get(Frequency(schedule.frequency or "weekly"), "")
    first = schedule.first_date
    slot = f"{schedule.local_time}" + (
        f" / {schedule.alt_local_time} alternating" if schedule.alt_local_time else ""
    )
    return (
        f"{label} on {first:%A}s at {slot} ({schedule.duration_minutes} min), from {first:%d %b %Y}"
        if first
        else label
    )


STATUS_BADGES = {
    ScheduleStatus.DRAFT: ":memo: draft, nothing is posted yet",
    ScheduleStatus.ACTIVE: ":large_green_circle: live",
    ScheduleStatus.PAUSED: ":pause_button: paused",
}


def schedule_list(
    community: Community,
    schedules: Sequence[RitualSchedule],
    exclusions: Sequence[Exclusion],
    coming: Sequence[Occurrence],
    *,
    can_edit: bool,
) -> Message:
    """The ephemeral `/cop schedule list`: what comes next, each schedule, the dates with no session.
    Buttons and drafts only for those who may plan rituals (leads and facilitators)."""
    blocks: list[dict[str, Any]] = [header(f"Rituals of {community.name}")]
    if coming:
        lines = [
            f"• {o.kind.capitalize()}, {local_time(o.starts_at)}"
            + (f", facilitated by {mention(o.facilitator_id)}" if o.facilitator_id else "")
            for o in coming
        ]
        blocks.append(section("*Coming up*\n" + "\n".join(lines)))
    shown = [s for s in schedules if can_edit or s.status != ScheduleStatus.DRAFT][:12]
    if not shown:
        invite = " Plan a cycle or recurring sessions:" if can_edit else ""
        blocks.append(section(f"No rituals yet.{invite}"))
    for schedule in shown:
        reason = f" ({escape(schedule.paused_reason)})" if schedule.paused_reason else ""
        number = f"#{schedule.id} " if can_edit else ""
        badge = STATUS_BADGES[ScheduleStatus(schedule.status)]
        blocks.append(
            section(
                f"*{number}{escape(schedule.title)}*  {badge}{reason}\n"
                f"{escape(describe(schedule, community.timezone))}"
            )
        )
        if can_edit:
            blocks.append(actions(*_schedule_buttons(schedule)))
    if exclusions:
        lines = [
            f"• {e.first_day:%d %b %Y}"
            + (f" to {e.last_day:%d %b %Y}" if e.last_day != e.first_day else "")
            + (f": {escape(e.reason)}" if e.reason else "")
            for e in exclusions[:20]
        ]
        blocks.append(section("*No sessions on*\n" + "\n".join(lines)))
    if can_edit:
        blocks.append(
            actions(
                button("Plan a cycle", RitualAction.NEW_CYCLE, str(community.id)),
                button("Add recurring sessions", RitualAction.NEW_SESSIONS, str(community.id)),
                block_id=RitualBlock.NEW,
            )
        )
        blocks.append(
            context("`/cop schedule skip YYYY-MM-DD [YYYY-MM-DD] [reason]` adds dates with no session.")
        )
    else:
        blocks.append(context("Times show in your own time zone. Leads and facilitators plan the rituals."))
    return _message(f"Rituals of {escape(community.name)}", blocks)


def rotation_message(
    community: Community, order: Sequence[str], away: dict[str, list[AwayPeriod]]
) -> Message:
    """The ephemeral `/cop rotation`: who facilitates, in turn order, and who is away."""
    lines = []
    for position, user_id in enumerate(order, start=1):
        notes = [f"away {p.first_day:%d %b}-{p.last_day:%d %b}" for p in away.get(user_id, [])]
        lines.append(f"{position}. {mention(user_id)}" + (f" _({', '.join(notes)})_" if notes else ""))
    body = "\n".join(lines) if lines else "_Nobody yet._ `/cop rotation in` puts you first in line."
    blocks = [
        header(f"Facilitator rotation: {community.name}"),
        section(body),
        context(
            "When a session needs a facilitator, the next in line is asked by DM. "
            "`/cop rotation in` / `out` to join or leave; `/cop away FROM TO` skips you while away. "
            "Leads and facilitators set the order with `/cop rotation order @a @b`."
        ),
    ]
    return _message(f"Facilitator rotation of {escape(community.name)}", blocks)


def facilitating_changed(
    community: Community, order: Sequence[str], user_id: str, *, on: bool, changed: bool
) -> str:
    """What `/cop rotation in|out` and `/cop facilitate on|off` did, and where that leaves the caller."""
    name = escape(community.name)
    if on:
        place = f"{order.index(user_id) + 1} of {len(order)}" if user_id in order else "last"
        if not changed:
            return f"You were already in the facilitator rotation of *{name}* ({place})."
        return (
            f":microphone: You are in the facilitator rotation of *{name}* ({place}). When your turn comes, "
            "I'll ask you by DM a few days before the session; you can accept, swap or skip. "
            "`/cop rotation` shows the order."
        )
    if not changed:
        return f"You were not in the facilitator rotation of *{name}*. `/cop rotation in` puts you in."
    return (
        f"You are out of the facilitator rotation of *{name}*: nobody will ask you to facilitate. "
        "`/cop rotation in` brings you back to your place."
    )
