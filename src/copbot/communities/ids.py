"""Ids of the communities feature: the set-up modal, its fields, the join button.

A test holds every feature's ids against the manifests in `manifests/` (see `Feature.ids`).
"""

from enum import StrEnum


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


# The set-up form's fields as the service names them (a Block member's name, lower case) -> block id.
FIELD_BLOCKS: dict[str, str] = {block.name.lower(): block.value for block in Block}
