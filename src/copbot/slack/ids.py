"""The core's Slack ids: the `/cop` command its router answers.

Each feature keeps its own ids in `<feature>/ids.py` and lists them in its `Feature.ids`.
"""

from enum import StrEnum


class Command(StrEnum):
    """The slash command the core registers (the features register theirs)."""

    COP = "/cop"
