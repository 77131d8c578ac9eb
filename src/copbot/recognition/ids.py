"""Ids of the recognition feature: command, shortcut, modal, fields, buttons.

A test holds every feature's ids against the manifests in `manifests/` (see `Feature.ids`).
"""

from enum import StrEnum


class RecognitionCommand(StrEnum):
    """Recognition's slash command."""

    NOMINATE = "/nominate"


class RecognitionShortcut(StrEnum):
    """Recognition's message shortcut."""

    RECOGNIZE_MESSAGE = "recognize_message"


class RecognitionSetup(StrEnum):
    """The community's values, a field recognition adds to the `/cop setup` modal."""

    VALUES_BLOCK = "recognition_values"
    VALUES_INPUT = "recognition_values_input"


class RecognitionView(StrEnum):
    """Modal callback ids of the recognition feature."""

    NOMINATE = "recognition_nominate"


class RecognitionField(StrEnum):
    """Inputs of the nomination modal: each is both the block id and its element's action id."""

    NOMINEES = "recognition_nominees"
    VALUE = "recognition_value"
    ACTION = "recognition_action"
    IMPACT = "recognition_impact"
    VISIBILITY = "recognition_visibility"


class RecognitionAction(StrEnum):
    """Buttons of the recognition feature (action ids)."""

    # On reviews' and playbooks' posts; value "review:<id>" or "playbook:<id>".
    THANK_AUTHOR = "recognition_thank_author"
    # On a nomination's channel post; value = the nomination's id. Reviews opens its modal from it.
    TURN_INTO_LESSON = "recognition_turn_into_lesson"


class RecognitionBlock(StrEnum):
    """Block ids of the recognition feature's messages."""

    POST_ACTIONS = "recognition_post_actions"


# The nomination's fields as the service names them (a member's name, lower case) -> block id.
FIELD_BLOCKS: dict[str, str] = {field.name.lower(): field.value for field in RecognitionField}
