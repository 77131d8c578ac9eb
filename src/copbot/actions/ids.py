"""Ids of the action items feature: the edit modal, its fields, the DM buttons, blocks.

A test holds every feature's ids against the manifests in `manifests/` (see `Feature.ids`).
"""

from enum import StrEnum


class ActionsView(StrEnum):
    """Modal callback ids of the action items feature."""

    EDIT = "actions_edit_modal"


class ActionsField(StrEnum):
    """Inputs of the "Edit actions" modal: action ids; their blocks are "<field>:<item id>"."""

    TEXT = "actions_text"
    OWNER = "actions_owner"
    DUE = "actions_due"


class ActionsAction(StrEnum):
    """Buttons and menus of the action items feature (action ids)."""

    # On the review post and the App Home; value = the review's id.
    EDIT = "actions_edit"
    # On the owner's DM; value = the item's id (the datepicker's block id carries it).
    DONE = "actions_done"
    NOT_DOING = "actions_not_doing"
    NEW_DATE = "actions_new_date"


class ActionsBlock(StrEnum):
    """Block ids of the action items feature's messages."""

    # The DM's buttons: "actions_dm:<item id>:<stage>:<due date>", the DM it belongs to.
    DM = "actions_dm"


def field_block(field: ActionsField, item_id: int) -> str:
    """The block id of one item's input in the edit modal."""
    return f"{field.value}:{item_id}"


# The service's field errors (`text:7`, `owner:7`, `due:7`) -> the modal's block ids.
FIELD_PREFIXES: dict[str, ActionsField] = {
    "text": ActionsField.TEXT,
    "owner": ActionsField.OWNER,
    "due": ActionsField.DUE,
}
