"""Logging set-up: one format, and no secret ever written (tokens are masked wherever they appear)."""

from __future__ import annotations

import logging
import re
import sys

SECRET = re.compile(r"\b(xox[a-z]|xapp|xoxe(?:\.xox[a-z])?)-[A-Za-z0-9-]+")


class RedactSecrets(logging.Filter):
    """Mask Slack tokens in every log record, whatever logged them (slack_sdk logs headers at DEBUG)."""

    def __init__(self, *secrets: str):
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = SECRET.sub(lambda m: m.group(1) + "-***", message)
        for secret in self._secrets:
            masked = masked.replace(secret, "***")
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure(level: int, *secrets: str) -> None:
    """Log to stderr at `level`, masking tokens and the given secrets."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(*secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "uvicorn.access", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
