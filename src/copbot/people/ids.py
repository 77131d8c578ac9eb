"""Ids of the people feature: modals, blocks, buttons.

A test holds every feature's ids against the manifests in `manifests/` (see `Feature.ids`).
"""

from enum import StrEnum


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
