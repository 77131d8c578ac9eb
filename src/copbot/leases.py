"""Leases: claims on owed work that name the process holding them and lapse unless it renews them.

A process claims outbox messages and events for `COPBOT_LEASE_SECONDS` and renews its claims every
third of that while it lives; after a kill -9 nothing renews them, so a live replica (or the restarted
process) takes the work over within one lease instead of waiting minutes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from copbot.clock import now
from copbot.db import affected, session_scope

log = logging.getLogger(__name__)

Renewal = Callable[[Session, str, datetime, datetime], int]


def renew(
    session: Session, model: Any, identity: str, at: datetime, until: datetime, *still_owed: Any
) -> int:
    """Extend to `until` the leases `identity` holds on rows of `model` that have not lapsed by `at` and
    whose work is `still_owed`; `model` has `claimed_by` and `claimed_until`."""
    return affected(
        session.execute(
            update(model)
            .where(model.claimed_by == identity, model.claimed_until >= at, *still_owed)
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
    )


def process_identity() -> str:
    """A name for this process, unique across hosts and restarts: host, pid and a random tail."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseKeeper:
    """Renews this process's claims in the background until stopped."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        identity: str,
        seconds: float,
        renewals: Sequence[Renewal],
        clock: Callable[[], datetime] = now,
    ):
        self._sessions, self._identity, self._clock = sessions, identity, clock
        self._lease = timedelta(seconds=seconds)
        self._renewals = list(renewals)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="copbot-leases", daemon=True)

    def renew(self) -> int:
        """Extend every live claim of this process by one lease; return how many rows were renewed."""
        at = self._clock()
        with session_scope(self._sessions) as session:
            return sum(renewal(session, self._identity, at, at + self._lease) for renewal in self._renewals)

    def start(self) -> None:
        """Renew every third of a lease from now on."""
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing (the claims lapse one lease later unless released)."""
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        interval = self._lease.total_seconds() / 3
        while not self._stopping.wait(interval):
            try:
                self.renew()
            except Exception as error:
                log.warning("renewing leases failed (%s); trying again", type(error).__name__)
