"""The feature contract: everything a feature hands the core, as one typed value.

Each feature's `__init__.py` exposes `FEATURE = Feature(...)`; `copbot.features` lists them. The core
assembles the app, schedules the jobs, and runs forget-me, retention and export over that list; it
never probes a module for optional functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient
    from sqlalchemy.orm import Session, sessionmaker

    from copbot.communities.models import Community
    from copbot.communities.setup import SetupExtension
    from copbot.deps import Deps
    from copbot.outbox.models import OutboxMessage
    from copbot.scheduling.jobs import Job
    from copbot.slack.commands import CopRouter

Records = dict[str, list[dict[str, Any]]]  # `copbot export`: record kind -> rows
Counts = Mapping[str, int]  # rows changed, by table


@dataclass(frozen=True)
class Person:
    """Whom forget-me is for, and the key their anonymous (keyed-hash) records were written with."""

    team_id: str
    user_id: str
    hash_key: bytes | None = None


Register = Callable[["App", "Deps", "CopRouter"], None]
Export = Callable[["Session", "list[Community]"], Records]
Forget = Callable[["Session", Person], Counts]
Purge = Callable[["Session", datetime, str], int]  # (session, cutoff, team_id) -> rows deleted
DeliveryFailure = Callable[["Session", "OutboxMessage", str], None]
# Brings one Slack object (a user group, a canvas) to the state an outbox SYNC message carries.
Syncer = Callable[["sessionmaker[Session]", "WebClient", "OutboxMessage"], None]


def _no_jobs() -> Sequence[Job]:
    return ()


@dataclass(frozen=True)
class Feature:
    """One feature, as the core sees it.

    - `register(app, deps, router)`: its listeners and `/cop` subcommands.
    - `jobs()`: its scheduled work.
    - `setup_fields`: its fields in the `/cop setup` modal (validated and saved with the community).
    - `ids`: the enums of its callback, action and block ids (the manifest test checks them).
    - `export(session, communities)`: its record kinds for `copbot export`.
    - `forget(session, person)`: delete or anonymise every row of its tables naming the person.
    - `purge(session, cutoff, team_id)`: retention, one workspace's raw records older than cutoff.
    - `on_delivery_failure(session, message, error)`: told when the outbox gives up on a message.
    - `syncers`: the outbox SYNC targets it delivers, by name (Web API calls bringing a Slack object,
      such as a user group or a canvas, to the state a message carries).
    """

    name: str
    register: Register
    jobs: Callable[[], Sequence[Job]] = _no_jobs
    setup_fields: Sequence[SetupExtension] = ()
    ids: Sequence[type[StrEnum]] = ()
    export: Export | None = None
    forget: Forget | None = None
    purge: Purge | None = None
    on_delivery_failure: DeliveryFailure | None = None
    syncers: Mapping[str, Syncer] = field(default_factory=dict)


Features = Sequence[Feature]
