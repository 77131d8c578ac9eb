"""Wiring: settings -> engine -> sessions -> Bolt app and outbox sender, for every command."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from slack_bolt import App
from sqlalchemy import Engine

from copbot.app import Installations, create_app
from copbot.config import Settings
from copbot.db import create_db_engine, session_factory
from copbot.deps import Deps
from copbot.features import FEATURES
from copbot.inbox import service as inbox
from copbot.leases import LeaseKeeper
from copbot.lookups import Listener
from copbot.outbox.sender import Notifier, OutboxSender
from copbot.outbox.sender import renew_claims as renew_outbox_claims
from copbot.tokens import SingleWorkspaceTokens, TokenResolver


@dataclass
class Runtime:
    """The long-lived objects of one copbot process, built on first use."""

    settings: Settings
    socket_mode: bool = False

    @cached_property
    def engine(self) -> Engine:
        """The database engine."""
        return create_db_engine(self.settings.db_url, pool_size=min(self.settings.listener_threads, 20))

    @cached_property
    def installations(self) -> Installations | None:
        """OAuth mode's installation and state stores (None in single-workspace mode)."""
        if not self.settings.oauth_enabled:
            return None
        from copbot.oauth.stores import InstallationStore, StateStore  # OAuth mode only

        store = InstallationStore(client_id=self.settings.slack_client_id or "", engine=self.engine)
        return Installations(store=store, states=StateStore(self.engine))

    @cached_property
    def tokens(self) -> TokenResolver:
        """The bot-token lookup: the installation store in OAuth mode, else `SLACK_BOT_TOKEN`."""
        if self.installations is not None:
            from copbot.oauth.stores import InstallationTokens

            secret = self.settings.slack_client_secret
            return InstallationTokens(
                self.installations.store,
                client_id=self.settings.slack_client_id or "",
                client_secret=secret.get_secret_value() if secret else "",
                api_url=self.settings.slack_api_url,
            )
        token = self.settings.slack_bot_token
        return SingleWorkspaceTokens(token.get_secret_value() if token else None)

    @cached_property
    def deps(self) -> Deps:
        """What features are given."""
        return Deps(
            settings=self.settings,
            sessions=session_factory(self.engine),
            outbox=Notifier(),
            tokens=self.tokens,
            features=FEATURES,
        )

    @cached_property
    def app(self) -> App:
        """The Bolt app."""
        return create_app(self.deps, socket_mode=self.socket_mode, installations=self.installations)

    @cached_property
    def sender(self) -> OutboxSender:
        """The outbox sender."""
        hooks = [f.on_delivery_failure for f in FEATURES if f.on_delivery_failure is not None]
        syncers = {name: run for f in FEATURES for name, run in f.syncers.items()}
        return OutboxSender(
            self.deps.sessions,
            self.tokens,
            api_url=self.settings.slack_api_url,
            timeout=self.settings.slack_timeout,
            failure_hooks=hooks,
            syncers=syncers,
            identity=self.deps.identity,
            lease_seconds=self.settings.lease_seconds,
            reconcile_seconds=self.settings.reconcile_seconds,
        )

    @cached_property
    def leases(self) -> LeaseKeeper:
        """The renewer of this process's claims on outbox messages and events."""
        return LeaseKeeper(
            self.deps.sessions,
            self.deps.identity,
            self.settings.lease_seconds,
            [renew_outbox_claims, inbox.renew_claims],
        )

    @cached_property
    def lookups(self) -> Listener:
        """The listener that keeps this process's cached lookups fresh on PostgreSQL (see copbot.lookups)."""
        return Listener(self.engine)
