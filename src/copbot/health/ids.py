"""Ids of the health feature: App Home and review buttons, blocks.

A test holds every feature's ids against the manifests in `manifests/` (see `Feature.ids`).
"""

from enum import StrEnum


class HealthAction(StrEnum):
    """Buttons of the health feature (action ids)."""

    REFRESH_HOME = "health_refresh_home"
    # Opens the community set-up modal; value = the community's channel id.
    OPEN_SETUP = "health_open_setup"


class HealthBlock(StrEnum):
    """Block ids of the health feature's views and messages."""

    HOME_ACTIONS = "health_home_actions"
    DASHBOARD_ACTIONS = "health_dashboard_actions"  # suffixed with ":<community id>" per dashboard
    REVIEW_ACTIONS = "health_review_actions"
