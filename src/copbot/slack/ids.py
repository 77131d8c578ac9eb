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


class PeopleView(StrEnum):
    """Modal callback ids of the people feature."""

    ASK = "people_ask"


class PeopleBlock(StrEnum):
    """Block ids of the people feature's modals and messages."""

    ASK_TEXT = "people_ask_text"
    QUESTION_ACTIONS = "people_question_actions"
    DRAFT_ACTIONS = "people_draft_actions"
    FORGET_ACTIONS = "people_forget_actions"


class PeopleAction(StrEnum):
    """Action ids of the people feature's interactive elements."""

    ASK_INPUT = "people_ask_input"
    CLOSE_QUESTION = "people_question_close"
    DELETE_QUESTION = "people_question_delete"
    POST_DRAFT = "people_draft_post"
    DROP_DRAFT = "people_draft_drop"
    FORGET_ME = "people_forget_me"
    KEEP_ME = "people_forget_cancel"
