"""The installation store, the OAuth state store and the token lookup for OAuth mode."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine, and_, delete

from copbot.db import affected, session_factory, session_scope
from copbot.oauth import models
from copbot.oauth import service as workspaces

log = logging.getLogger(__name__)

ROTATE_MINUTES_BEFORE_EXPIRY = 120


class InstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's store on copbot's tables; an install (or re-install) also resumes the workspace."""

    def __init__(self, client_id: str, engine: Engine):
        super().__init__(client_id=client_id, engine=engine)
        self.metadata = models.oauth_metadata  # the tables Alembic made, not a private copy
        self.installations, self.bots = models.installations_table, models.bots_table
        self._sessions = session_factory(engine)

    def save(self, installation: Installation) -> None:
        """Store the installation and mark its workspace (or, org-wide, its organisation's) installed."""
        super().save(installation)
        enterprise_id = installation.enterprise_id
        with session_scope(self._sessions) as session:
            if installation.is_enterprise_install and enterprise_id:
                resumed = workspaces.mark_organisation(session, enterprise_id=enterprise_id, installed=True)
                log.info(
                    "installed org-wide in organisation %s (%d known workspaces)", enterprise_id, resumed
                )
                return
            workspaces.mark_installed(
                session,
                team_id=installation.team_id or "",
                name=installation.team_name,
                enterprise_id=enterprise_id,
            )
        log.info("installed in workspace %s", installation.team_id)

    def find_workspace_bot(self, team_id: str) -> Bot | None:
        """The bot of a workspace: its own install, else its organisation's org-wide install (Grid)."""
        with session_scope(self._sessions) as session:
            enterprise_id = workspaces.enterprise_of(session, team_id)
        bot = self.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id:
            bot = self.find_bot(enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True)
        return bot


class StateStore(SQLAlchemyOAuthStateStore):
    """OAuth states in the database; consuming one is a single DELETE, so a replay can never win a race."""

    def __init__(self, engine: Engine, expiration_seconds: int = 600):
        super().__init__(expiration_seconds=expiration_seconds, engine=engine)
        self.oauth_states = models.states_table

    def consume(self, state: str) -> bool:
        """Use up a state once; False when it is unknown, expired or already used."""
        columns = self.oauth_states.c
        now = datetime.now(UTC).replace(tzinfo=None)  # slack-sdk stores naive UTC
        with self.engine.begin() as connection:
            deleted = connection.execute(
                delete(self.oauth_states).where(and_(columns.state == state, columns.expire_at > now))
            )
        return affected(deleted) == 1


class InstallationTokens:
    """Token lookup for OAuth mode: the newest bot token of the workspace, rotated before it expires."""

    def __init__(self, store: InstallationStore, *, client_id: str, client_secret: str, api_url: str):
        self._store = store
        self._rotator = TokenRotator(
            client_id=client_id, client_secret=client_secret, client=WebClient(base_url=api_url)
        )

    def bot_token(self, team_id: str) -> str | None:
        """Return the workspace's bot token, refreshing it first when token rotation is on."""
        bot = self._store.find_workspace_bot(team_id)
        if bot is None:
            return None
        if bot.bot_refresh_token:
            bot = self._rotate(bot)
        return bot.bot_token

    def _rotate(self, bot: Bot) -> Bot:
        refreshed = self._rotator.perform_bot_token_rotation(
            bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY
        )
        if refreshed is None:
            return bot
        self._store.save_bot(refreshed)
        log.info("rotated the bot token of workspace %s", bot.team_id)
        return refreshed
