"""Every id Slack echoes back to copbot: commands, callback ids, action ids, block ids.

A test holds these against the manifests in `manifests/`, so a listener and its declaration can
never drift apart.
"""

from enum import StrEnum


class Command(StrEnum):
    """Slash commands declared in the manifest."""

    COP = "/cop"
    POSTMORTEM = "/postmortem"
    NOMINATE = "/nominate"


class Shortcut(StrEnum):
    """Message shortcuts declared in the manifest."""

    CAPTURE_REVIEW = "capture_review"
    RECOGNIZE_MESSAGE = "recognize_message"


class View(StrEnum):
    """Modal callback ids."""

    COMMUNITY_SETUP = "community_setup"


class Block(StrEnum):
    """Input block ids (the keys of `view.state.values` and of `response_action: errors`)."""

    NAME = "name"
    PURPOSE = "purpose"
    LEARNING_GOALS = "learning_goals"
    BOUNDARIES = "boundaries"
    NORMS = "norms"
    TIMEZONE = "timezone"


class Action(StrEnum):
    """Action ids of interactive elements."""

    NAME = "name_input"
    PURPOSE = "purpose_input"
    LEARNING_GOALS = "learning_goals_input"
    BOUNDARIES = "boundaries_input"
    NORMS = "norms_input"
    TIMEZONE = "timezone_select"
    OPEN_SETUP = "open_setup"
    JOIN = "join_community"


class SessionAction(StrEnum):
    """Actions shared between rituals (which post them) and reviews (which handle them)."""

    # "What did we learn?" on a session's after-action prompt; value = the occurrence id.
    OPEN_REVIEW_FROM_SESSION = "review_open_from_session"
