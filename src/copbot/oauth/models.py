"""slack-sdk's installation and OAuth state tables, declared here so Alembic creates them (not run time)."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData

oauth_metadata = MetaData()
installations_table = SQLAlchemyInstallationStore.build_installations_table(
    oauth_metadata, "slack_installations"
)
bots_table = SQLAlchemyInstallationStore.build_bots_table(oauth_metadata, "slack_bots")
states_table = SQLAlchemyOAuthStateStore.build_oauth_states_table(oauth_metadata, "slack_oauth_states")
