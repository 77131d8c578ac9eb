"""The reliability suite: faults injected from outside (a failing or slow Slack, kill -9, a locked or
dropping database, hostile input), each case printing its figures. Leases, timeouts and intervals are
shortened through settings, so the whole suite runs in about a minute per database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest

from copbot.config import Settings

FIGURES: list[str] = []

# Short versions of the settings a deployment keeps long (README's table): the same code paths, quicker.
QUICK = {
    "COPBOT_SLACK_TIMEOUT": "0.5",
    "COPBOT_RECONCILE_SECONDS": "2",
    "COPBOT_LEASE_SECONDS": "2",
    "COPBOT_OUTBOX_POLL_SECONDS": "0.1",
    "COPBOT_LEADER_CHECK_SECONDS": "0.5",
}

ACK_LIMIT = 2.5  # Slack gives up at 3 s; copbot promises 2.5


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here carries the `reliability` marker."""
    for item in items:
        if "tests/reliability/" in str(item.path):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with the quick leases, timeouts and intervals, and the default ack budget."""
    quick = {
        "slack_timeout": 0.5,
        "reconcile_seconds": 2.0,
        "lease_seconds": 2.0,
        "outbox_poll_seconds": 0.1,
        "leader_check_seconds": 0.5,
        "ack_budget_seconds": Settings.model_fields["ack_budget_seconds"].default,
    }
    return settings.model_copy(update=quick)


@pytest.fixture
def figures(request: pytest.FixtureRequest, database_url: str) -> Callable[..., None]:
    """Record a case's figures: printed with the test and again in the run's summary."""
    engine = "postgresql" if database_url.startswith("postgresql") else "sqlite"

    def record(**values: object) -> None:
        shown = ", ".join(f"{name.replace('_', ' ')} {_shown(value)}" for name, value in values.items())
        line = f"{request.node.name} [{engine}]: {shown}"
        FIGURES.append(line)
        print(line)

    return record


def _shown(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


@dataclass
class Acks:
    """Requests sent at once, with how long each took to be answered."""

    seconds: list[float] = field(default_factory=list)
    responses: list[httpx.Response | Exception] = field(default_factory=list)

    @property
    def slowest(self) -> float:
        """The slowest answer, in seconds."""
        return max(self.seconds, default=0.0)

    @property
    def ok(self) -> list[httpx.Response]:
        """The answers with status 200."""
        return [r for r in self.responses if isinstance(r, httpx.Response) and r.status_code == 200]

    def send(self, calls: list[Callable[[], httpx.Response]], *, threads: int = 16) -> Acks:
        """Send every request, `threads` at a time, timing each."""

        def timed(call: Callable[[], httpx.Response]) -> tuple[float, httpx.Response | Exception]:
            started = time.monotonic()
            try:
                answer: httpx.Response | Exception = call()
            except Exception as error:  # a dropped connection is a figure too
                answer = error
            return time.monotonic() - started, answer

        with ThreadPoolExecutor(threads) as pool:
            for seconds, answer in pool.map(timed, calls):
                self.seconds.append(seconds)
                self.responses.append(answer)
        return self


@pytest.fixture
def acks() -> Iterator[Acks]:
    """A fresh record of acks."""
    yield Acks()
