"""Settings: the only place that reads the environment (and a `.env` file in the working directory)."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class SettingsError(Exception):
    """A setting is missing or malformed; `str()` is one line naming the variable."""


class Settings(BaseSettings):
    """copbot's configuration, as INTERFACE.md lists it."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///copbot.db", validation_alias="DATABASE_URL")
    default_timezone: str = Field(default="UTC", validation_alias="COPBOT_DEFAULT_TIMEZONE")
    log_level: str = Field(default="INFO", validation_alias="COPBOT_LOG_LEVEL")
    listener_threads: int = Field(default=32, ge=1, le=512, validation_alias="COPBOT_LISTENER_THREADS")
    slack_timeout: float = Field(default=10.0, gt=0, le=60, validation_alias="COPBOT_SLACK_TIMEOUT")
    # Keys the HMAC that stands in for an anonymous question's author; unset: derived from the signing secret.
    hash_key: SecretStr | None = Field(default=None, validation_alias="COPBOT_HASH_KEY")
    # Rituals found late by less than this are posted late once; older ones are skipped and logged.
    ritual_grace_minutes: int = Field(
        default=60, ge=0, le=10080, validation_alias="COPBOT_RITUAL_GRACE_MINUTES"
    )
    leader_check_seconds: float = Field(
        default=5.0, ge=0.1, le=300, validation_alias="COPBOT_LEADER_CHECK_SECONDS"
    )
    # A claim on an outbox message or an event lasts this long unless its process renews it (every third
    # of it): a killed process's work is taken over by a live one this soon.
    lease_seconds: float = Field(default=10.0, ge=0.5, le=600, validation_alias="COPBOT_LEASE_SECONDS")
    # A post whose outcome is unknown (timeout, lost answer) is looked up in the channel, backing off, for
    # this long before it is sent again; it must outlast COPBOT_SLACK_TIMEOUT (Slack may post late).
    reconcile_seconds: float = Field(
        default=60.0, ge=0.5, le=3600, validation_alias="COPBOT_RECONCILE_SECONDS"
    )
    outbox_poll_seconds: float = Field(
        default=1.0, ge=0.05, le=60, validation_alias="COPBOT_OUTBOX_POLL_SECONDS"
    )
    # Database time a request may spend before its ack; past it the person is told to try again.
    ack_budget_seconds: float = Field(
        default=1.5, ge=0.1, le=2.5, validation_alias="COPBOT_ACK_BUDGET_SECONDS"
    )

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _secret_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("is not a database URL (sqlite:///file.db or postgresql+psycopg://...)") from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("must be a sqlite:// or postgresql+psycopg:// URL")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _timezone_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level_known(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @model_validator(mode="after")
    def _reconcile_outlasts_timeout(self) -> Settings:
        if self.reconcile_seconds <= self.slack_timeout:
            raise ValueError(
                "COPBOT_RECONCILE_SECONDS: must be longer than COPBOT_SLACK_TIMEOUT (Slack may post late)"
            )
        return self

    @model_validator(mode="after")
    def _oauth_pair(self) -> Settings:
        if (self.slack_client_id is None) != (self.slack_client_secret is None):
            missing = "SLACK_CLIENT_SECRET" if self.slack_client_secret is None else "SLACK_CLIENT_ID"
            raise ValueError(f"{missing}: required too (OAuth mode needs the client id and the secret)")
        return self

    @property
    def oauth_enabled(self) -> bool:
        """Whether copbot serves many workspaces through Slack OAuth installs."""
        return self.slack_client_id is not None

    @cached_property
    def db_url(self) -> URL:
        """The database URL, with the psycopg 3 driver for PostgreSQL."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url

    @property
    def log_level_number(self) -> int:
        """The log level as a `logging` constant."""
        return logging.getLevelNamesMapping()[self.log_level]

    def require(self, *names: str, why: str) -> None:
        """Raise SettingsError unless every named setting is present."""
        for name in names:
            field = type(self).model_fields[name]
            if getattr(self, name) is None:
                raise SettingsError(f"{field.validation_alias}: required {why}")


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, turning validation errors into one readable line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings: its message names the variable
            raise SettingsError(message) from None
        location = str(first["loc"][0])
        field = Settings.model_fields.get(location)
        variable = str(field.validation_alias) if field else location.upper()
        raise SettingsError(f"{variable}: {message}") from None
