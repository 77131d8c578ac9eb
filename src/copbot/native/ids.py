"""Ids Slack echoes back to the native feature."""

from enum import StrEnum


class Function(StrEnum):
    """Callback ids of the custom workflow steps copbot offers in Workflow Builder (manifest `functions`)."""

    CAPTURE_LESSON = "capture_lesson"
    RECOGNISE = "recognise_someone"
    PICK_FACILITATOR = "pick_facilitator"
    LOG_ATTENDANCE = "log_attendance"
