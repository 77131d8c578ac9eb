"""copbot: a Slack bot for communities of practice."""

__version__ = "0.1.0"
