"""Block Kit for "does it stick?": the adopter's check-in DM and its answered form. Pure functions: data
in, dict out. (Leads see the retention in `/cop stats`: health renders it.)"""

from __future__ import annotations

from copbot.blockkit import (
    Message,
    button,
    channel_link,
    context,
    escape,
    message,
    section,
    truncate,
)
from copbot.communities.models import Community
from copbot.reviews.ids import ReviewAction, ReviewBlock
from copbot.reviews.models import CheckinAnswer

ANSWER_TEXT = {
    CheckinAnswer.YES: ":white_check_mark: Still doing it, and it helped.",
    CheckinAnswer.NO: ":x: It did not help.",
    CheckinAnswer.STOPPED: ":stop_sign: We stopped.",
}


def _question(title: str, stage: int, source: Community | None) -> str:
    where = f" from {channel_link(source.channel_id)}" if source else ""
    return (
        f":seedling: {stage} days ago you applied *{escape(truncate(title, 150))}*{where}.\n"
        "Are you still doing it? Did it help?"
    )


def checkin_message(*, checkin_id: int, title: str, stage: int, source: Community | None) -> Message:
    """The adopter's one DM at a stage: Yes / No / Stopped (answered in place)."""
    value = str(checkin_id)
    buttons = [
        button("Yes, it helps", ReviewAction.CHECKIN_YES, value, style="primary"),
        button("No, it didn't help", ReviewAction.CHECKIN_NO, value),
        button("We stopped", ReviewAction.CHECKIN_STOPPED, value),
    ]
    blocks = [
        section(_question(title, stage, source)),
        {"type": "actions", "block_id": ReviewBlock.CHECKIN_ACTIONS, "elements": buttons},
        context("Only aggregates of three answers or more are shown, to the community's leads."),
    ]
    return message(f"Still doing {escape(title)}?", blocks)


def checkin_answered(*, title: str, stage: int, source: Community | None, answer: str) -> Message:
    """What replaces the check-in DM once answered."""
    text = f"{_question(title, stage, source)}\n{ANSWER_TEXT[CheckinAnswer(answer)]} Thank you!"
    return message("Thanks for answering", [section(text)])
