"""Domain errors: services raise them, the Slack edge turns them into words for the person who acted."""


class CopbotError(Exception):
    """A rule said no; the message is written for the person who acted, in Slack mrkdwn."""


class NotFound(CopbotError):
    """Something the person referred to does not exist."""


class PermissionDenied(CopbotError):
    """The person may not do this; the message says who may."""


class InvalidInput(CopbotError):
    """Input broke a rule; `field_errors` maps modal block ids to messages."""

    def __init__(self, field_errors: dict[str, str]):
        super().__init__("; ".join(field_errors.values()))
        self.field_errors = field_errors
