"""Leadership: only the replica holding a PostgreSQL advisory lock runs scheduled jobs."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine

from copbot.db import holds_advisory_lock, try_advisory_lock

log = logging.getLogger(__name__)

SCHEDULER_LOCK = "copbot:scheduler"


class LeaderLock:
    """Holds the scheduler lock on a dedicated connection; the lock dies with that connection."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._connection: Connection | None = None
        self._held = False
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether this process led at the last check."""
        return self._held

    def refresh(self) -> bool:
        """Take the lock if it is free, or confirm it is still ours; a lost connection loses it."""
        with self._mutex:
            try:
                if self._connection is None:
                    self._connection = self._engine.connect()
                if self._held:
                    self._held = holds_advisory_lock(self._connection, SCHEDULER_LOCK)
                else:
                    self._held = try_advisory_lock(self._connection, SCHEDULER_LOCK)
                    if self._held:
                        log.info("this replica now runs the scheduler")
                self._connection.commit()
            except Exception as error:
                log.warning("scheduler lock check failed (%s): not leading", type(error).__name__)
                self._drop_connection()
            return self._held

    def release(self) -> None:
        """Give up leadership (closing the connection frees the lock)."""
        with self._mutex:
            self._drop_connection()

    def _drop_connection(self) -> None:
        self._held = False
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:
                log.debug("closing the lock connection failed", exc_info=True)
            self._connection = None
