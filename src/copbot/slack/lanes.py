"""After-ack work in two bounded lanes, so a modal never waits behind other slow work.

Slack rejects a `trigger_id` 3 s after it sent it, so work that opens a view (`@opens_view`) runs in its
own lane; everything else (events, clicks, `/cop stats`) shares the background lane. Each lane has a
fixed number of threads and a limit on the work it holds (running plus waiting). When a lane is full the
work runs inline, on the request's own thread, before the ack goes out: nothing the ack promised is
dropped, the person's wait stays the cost of their own request, and Slack's request rate is held back
instead of a queue growing without bound. An ack that refused (`refuse_after_ack`) starts no work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import BoltContext, BoltRequest
from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.lazy_listener.internals import build_runnable_function

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

REFUSED = "copbot_after_ack_refused"
_OPENS_VIEW = "copbot_opens_view"


def opens_view(function: F) -> F:
    """Mark a lazy listener that opens a modal: it runs in the view lane, ahead of other work."""
    setattr(function, _OPENS_VIEW, True)
    return function


def refuse_after_ack(context: BoltContext) -> None:
    """Tell the lanes that the ack refused the request, so its after-ack work is not started."""
    context[REFUSED] = True


def done_before_ack(context: BoltContext) -> None:
    """Tell the lanes that the ack function did the after-ack work itself (e.g. opened the modal)."""
    context[REFUSED] = True


class Lane:
    """A thread pool that holds at most `limit` pieces of work; `try_run` says False when it is full."""

    def __init__(self, name: str, *, threads: int, limit: int):
        self.name = name
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix=f"copbot-{name}")
        self._slots = threading.BoundedSemaphore(max(limit, threads))
        self._lock = threading.Lock()
        self.held = 0  # running plus waiting, for tests and logs
        self.overflowed = 0  # how many times work ran inline because the lane was full

    def try_run(self, work: Callable[[], None]) -> bool:
        """Queue `work`, or return False at once when the lane already holds its limit."""
        if not self._slots.acquire(blocking=False):
            with self._lock:
                self.overflowed += 1
            return False
        with self._lock:
            self.held += 1
        try:
            self.executor.submit(self._run, work)
        except RuntimeError:  # shut down: the caller runs it inline
            self._done()
            return False
        return True

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self.held -= 1
        self._slots.release()

    def shutdown(self) -> None:
        """Finish the work already held, then stop the threads."""
        self.executor.shutdown(wait=True)


class LaneRunner(LazyListenerRunner):
    """Bolt's lazy-listener runner, routing each piece of after-ack work to its lane."""

    def __init__(self, *, views: Lane, background: Lane):
        self.logger = log
        self.views, self.background = views, background

    @classmethod
    def sized(cls, threads: int) -> LaneRunner:
        """Two lanes from the listener thread budget: half for views, a quarter for the rest."""
        view_threads, background_threads = max(2, threads // 2), max(2, threads // 4)
        return cls(
            views=Lane("views", threads=view_threads, limit=view_threads * 2),
            background=Lane("background", threads=background_threads, limit=background_threads * 8),
        )

    def install(self, app: Any) -> None:
        """Take over `app`'s (a Bolt App's) after-ack work."""
        self.logger = app.logger
        app.listener_runner.lazy_listener_runner = self

    def lane_for(self, function: Callable[..., None]) -> Lane:
        """The view lane for `@opens_view` work, else the background lane."""
        return self.views if getattr(function, _OPENS_VIEW, False) else self.background

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        """Run `function` after the ack, in its lane, or inline when the lane is full."""
        if request.context.get(REFUSED):
            return
        work = build_runnable_function(func=function, logger=self.logger, request=request)
        lane = self.lane_for(function)
        if lane.try_run(work):
            return
        log.warning("%s lane full (%d held): running %s inline", lane.name, lane.held, function.__name__)
        work()

    def shutdown(self) -> None:
        """Finish the after-ack work already held (at a stop)."""
        self.views.shutdown()
        self.background.shutdown()
