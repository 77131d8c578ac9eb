"""Settings: read from the environment as INTERFACE.md lists them; bad values named in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from copbot.config import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "COPBOT_DEFAULT_TIMEZONE",
        "COPBOT_LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_interface() -> None:
    settings = load_settings()
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///copbot.db"
    assert settings.default_timezone == "UTC"
    assert settings.log_level == "INFO"
    assert settings.slack_bot_token is None


def test_reads_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / ".env").write_text("COPBOT_DEFAULT_TIMEZONE=Europe/Berlin\nSLACK_BOT_TOKEN=xoxb-from-file\n")
    monkeypatch.setenv("COPBOT_LOG_LEVEL", "debug")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    settings = load_settings()
    assert settings.default_timezone == "Europe/Berlin"
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-file"
    assert settings.log_level == "DEBUG"
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"


def test_postgres_url_gets_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/copbot")
    assert load_settings().db_url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DATABASE_URL", "not a url", "DATABASE_URL: is not a database URL"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: must be a sqlite"),
        ("COPBOT_DEFAULT_TIMEZONE", "Mars/Olympus", "COPBOT_DEFAULT_TIMEZONE: 'Mars/Olympus' is not an IANA"),
        ("COPBOT_LOG_LEVEL", "loud", "COPBOT_LOG_LEVEL: must be one of"),
        ("SLACK_BOT_TOKEN", "xoxp-user", "SLACK_BOT_TOKEN: must be a bot token"),
        ("SLACK_APP_TOKEN", "xoxb-nope", "SLACK_APP_TOKEN: must be an app-level token"),
        ("SLACK_API_URL", "ftp://x", "SLACK_API_URL: must be an http(s) URL"),
    ],
)
def test_malformed_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(words)


def _run_cli(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copbot", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


def test_cli_exits_2_with_one_line_for_a_missing_secret(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SLACK_BOT_TOKEN": "xoxb-1", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = _run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "copbot: SLACK_SIGNING_SECRET: required for HTTP mode (Slack signs every request with it)"
    ]
    assert "Traceback" not in result.stderr


def test_cli_exits_2_with_one_line_for_a_malformed_setting(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "COPBOT_DEFAULT_TIMEZONE": "Nowhere/Land"}
    result = _run_cli("db", "current", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "COPBOT_DEFAULT_TIMEZONE" in result.stderr


def test_oauth_needs_both_client_id_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    with pytest.raises(SettingsError, match=r"^SLACK_CLIENT_SECRET: required too"):
        load_settings()
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "s")
    assert load_settings().oauth_enabled


def test_oauth_mode_needs_no_bot_token(tmp_path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "s",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    result = _run_cli("tick", "--at", "2026-01-01", env=env, cwd=tmp_path)
    assert "SLACK_BOT_TOKEN" not in result.stderr  # it stops on the schema instead, not on the token
    assert "copbot db upgrade" in result.stderr
