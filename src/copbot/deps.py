"""What features need from the running program, handed to them when they register."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from copbot.config import Settings
from copbot.leases import process_identity
from copbot.outbox.sender import Notifier
from copbot.tokens import TokenResolver

if TYPE_CHECKING:
    from copbot.feature import Features


@dataclass(frozen=True)
class Deps:
    """Settings, the session factory, the outbox's wake-up bell, the token lookup, the features, and the
    name this process's leases carry."""

    settings: Settings
    sessions: sessionmaker[Session]
    outbox: Notifier
    tokens: TokenResolver
    features: Features = ()
    identity: str = field(default_factory=process_identity)
