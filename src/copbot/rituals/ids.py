"""Ids of the rituals feature: modals, fields, buttons, blocks, and the session prompt reviews answers.

A test holds every feature's ids against the manifests in `manifests/` (see `Feature.ids`).
"""

from enum import StrEnum


class SessionAction(StrEnum):
    """Actions shared between rituals (which post them) and reviews (which handle them)."""

    # "What did we learn?" on a session's after-action prompt; value = the occurrence id.
    OPEN_REVIEW_FROM_SESSION = "review_open_from_session"


class RitualView(StrEnum):
    """Modal callback ids of the rituals feature."""

    CYCLE = "ritual_cycle_modal"
    SESSIONS = "ritual_sessions_modal"


class RitualField(StrEnum):
    """Input ids of the rituals feature's modals: each is both the block id and its element's action id."""

    TITLE = "ritual_title"
    PLAN = "ritual_plan"
    KICKOFF_DATE = "ritual_kickoff_date"
    KICKOFF_TIME = "ritual_kickoff_time"
    MIDPOINT_DATE = "ritual_midpoint_date"
    MIDPOINT_TIME = "ritual_midpoint_time"
    FINALE_DATE = "ritual_finale_date"
    FINALE_TIME = "ritual_finale_time"
    FREQUENCY = "ritual_frequency"
    FIRST_DATE = "ritual_first_date"
    TIME = "ritual_time"
    ALT_TIME = "ritual_alt_time"
    DURATION = "ritual_duration"
    ROTATION_DAYS = "ritual_rotation_days"
    THEN = "ritual_then"  # after saving: go live, keep a draft, or keep a draft and preview


class RitualAction(StrEnum):
    """Buttons of the rituals feature (action ids)."""

    GOING = "ritual_rsvp_going"
    CANT = "ritual_rsvp_cant"
    ASYNC = "ritual_rsvp_async"
    ATTENDED = "ritual_attended"
    SIGN_UP = "ritual_sign_up"
    PULSE_1 = "ritual_pulse_1"
    PULSE_2 = "ritual_pulse_2"
    PULSE_3 = "ritual_pulse_3"
    PULSE_4 = "ritual_pulse_4"
    PULSE_5 = "ritual_pulse_5"
    ACCEPT = "ritual_accept"
    SWAP = "ritual_swap"
    SKIP = "ritual_skip"
    NEW_CYCLE = "ritual_new_cycle"
    NEW_SESSIONS = "ritual_new_sessions"
    PREVIEW = "ritual_preview"
    GO_LIVE = "ritual_go_live"
    PAUSE = "ritual_pause"
    RESUME = "ritual_resume"
    EDIT = "ritual_edit"
    DELETE = "ritual_delete"


class RitualBlock(StrEnum):
    """Block ids of the rituals feature's messages (the pulse's block id names its question)."""

    RSVP = "ritual_rsvp"
    SIGN_UP = "ritual_sign_up_actions"
    PULSE_VALUE = "ritual_pulse_value"
    PULSE_SAFETY = "ritual_pulse_safety"
    ASK = "ritual_ask_actions"
    NEW = "ritual_new_actions"
    PROMPT = "ritual_prompt_actions"


# The schedule modals' fields (as the service names them) and the input block showing each.
FIELD_BLOCKS: dict[str, str] = {
    "title": RitualField.TITLE,
    "plan": RitualField.PLAN,
    "kickoff_date": RitualField.KICKOFF_DATE,
    "kickoff_time": RitualField.KICKOFF_TIME,
    "midpoint_date": RitualField.MIDPOINT_DATE,
    "midpoint_time": RitualField.MIDPOINT_TIME,
    "finale_date": RitualField.FINALE_DATE,
    "finale_time": RitualField.FINALE_TIME,
    "frequency": RitualField.FREQUENCY,
    "first_date": RitualField.FIRST_DATE,
    "local_time": RitualField.TIME,
    "alt_local_time": RitualField.ALT_TIME,
    "duration_minutes": RitualField.DURATION,
    "rotation_days": RitualField.ROTATION_DAYS,
}
