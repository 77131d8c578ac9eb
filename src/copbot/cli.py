"""The `copbot` command: serve, worker, db, manifest, tick, export."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from copbot import logs, manifest, migrate
from copbot.clock import as_utc
from copbot.config import Settings, SettingsError, load_settings
from copbot.errors import CopbotError
from copbot.runtime import Runtime

if TYPE_CHECKING:
    from copbot.scheduling.runner import Worker

log = logging.getLogger("copbot")

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    parser = argparse.ArgumentParser(prog="copbot", description="A Slack bot for communities of practice.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot (HTTP, or Socket Mode) with its worker")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")  # noqa: S104
    serve.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    serve.add_argument(
        "--no-worker", action="store_true", help="serve requests only; run `copbot worker` apart"
    )
    serve.add_argument(
        "--socket-mode", action="store_true", help="connect over Socket Mode (SLACK_APP_TOKEN)"
    )

    commands.add_parser("worker", help="run the scheduler and the outbox sender without HTTP")

    db = commands.add_parser("db", help="database schema migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="upgrade the schema to the newest revision")
    db_commands.add_parser("current", help="print the schema revision")

    manifest_parser = commands.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest_parser.add_argument("--url", help="public base URL, e.g. https://copbot.example.com")
    manifest_parser.add_argument("--socket-mode", action="store_true", help="the Socket Mode manifest")
    manifest_parser.add_argument(
        "--org", action="store_true", help="Enterprise Grid: allow an org-wide install (org_deploy_enabled)"
    )

    tick = commands.add_parser("tick", help="run what is due at an instant, deliver the outbox, exit")
    tick.add_argument("--at", required=True, type=parse_instant, help="ISO-8601 instant; no offset means UTC")

    forget = commands.add_parser("forget", help="delete or anonymise every record naming a user (admins)")
    forget.add_argument("--user", required=True, help="the Slack user id, e.g. U0123ABCD")
    forget.add_argument("--team", required=True, help="the workspace's team id, e.g. T0123ABCD")

    export = commands.add_parser("export", help="write records to stdout")
    export.add_argument("--format", choices=("csv", "json"), default="json")
    export.add_argument("--team", help="only this workspace (team id)")
    export.add_argument("--community", help="only the community bound to this channel id")
    return parser


def parse_instant(value: str) -> datetime:
    """Parse an ISO-8601 instant; a time without an offset is UTC."""
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO-8601 instant (e.g. 2026-03-02T09:00)"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; settings errors exit 2 with one line on stderr."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "manifest":
            sys.stdout.write(manifest.render(url=args.url, socket_mode=args.socket_mode, org=args.org))
            return 0
        _require(settings, args)
    except SettingsError as error:
        print(f"copbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    logs.configure(settings.log_level_number, *_secrets(settings))
    runtime = Runtime(settings, socket_mode=getattr(args, "socket_mode", False))
    return COMMANDS[args.command](runtime, args)


def _require(settings: Settings, args: argparse.Namespace) -> None:
    if args.command == "serve" and args.socket_mode:
        settings.require("slack_app_token", why="for Socket Mode")
    elif args.command == "serve":
        settings.require("slack_signing_secret", why="for HTTP mode (Slack signs every request with it)")
    if args.command in ("serve", "worker", "tick") and not settings.oauth_enabled:
        settings.require(
            "slack_bot_token", why="to talk to Slack (the bot token, xoxb-...; or SLACK_CLIENT_ID for OAuth)"
        )


def _secrets(settings: Settings) -> list[str]:
    secrets = (settings.slack_signing_secret, settings.slack_client_secret, settings.hash_key)
    return [s.get_secret_value() for s in secrets if s is not None]


def run_serve(runtime: Runtime, args: argparse.Namespace) -> int:
    """Upgrade the schema, start the worker, serve until stopped."""
    stop = _stop_signal()  # from the start: a stop while migrating or connecting still cleans up
    head = migrate.upgrade_in_child(runtime.settings.db_url.render_as_string(hide_password=False))
    log.info("database schema at %s", migrate.current_revision(runtime.engine))
    runtime.leases.start()
    runtime.lookups.start()
    worker = None if args.no_worker else _start_worker(runtime)
    try:
        if args.socket_mode:
            _serve_socket_mode(runtime, stop)
        else:
            _serve_http(runtime, args.host, args.port, head)
    finally:
        if worker is not None:
            worker.stop()
        runtime.lookups.stop()
        runtime.leases.stop()
    return 0


def _start_worker(runtime: Runtime) -> Worker:
    from copbot.scheduling.runner import Worker

    worker = Worker(runtime.deps, runtime.engine, runtime.app, runtime.sender)
    worker.start()
    return worker


def _serve_http(runtime: Runtime, host: str, port: int, head: str | None) -> None:
    import uvicorn

    from copbot.server import create_http_app

    secret = runtime.settings.slack_signing_secret
    http_app = create_http_app(
        runtime.app,
        runtime.engine,
        threads=runtime.settings.listener_threads,
        head=head,
        signing_secret=secret.get_secret_value() if secret else None,
    )
    log.info("copbot listening on http://%s:%d/slack/events", host, port)
    # ws="none": copbot serves no WebSocket, so uvicorn need not load a WebSocket library.
    uvicorn.run(
        http_app, host=host, port=port, log_level="warning", access_log=False, lifespan="on", ws="none"
    )


def _stop_signal() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so a stop is always orderly (the worker finishes its pass)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _serve_socket_mode(runtime: Runtime, stop: threading.Event) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    token = runtime.settings.slack_app_token
    handler = SocketModeHandler(runtime.app, app_token=token.get_secret_value() if token else None)
    log.info("copbot connecting over Socket Mode")
    try:
        handler.connect()  # type: ignore[no-untyped-call]
    except SlackApiError as error:
        print(f"copbot: SLACK_APP_TOKEN: Slack refused it ({error.response.get('error')})", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    stop.wait()
    handler.close()  # type: ignore[no-untyped-call]


def run_worker(runtime: Runtime, args: argparse.Namespace) -> int:
    """Run the scheduler and the outbox sender until stopped."""
    _check_schema(runtime)
    stop = _stop_signal()
    runtime.leases.start()
    runtime.lookups.start()
    worker = _start_worker(runtime)
    log.info("copbot worker running")
    stop.wait()
    worker.stop()
    runtime.lookups.stop()
    runtime.leases.stop()
    return 0


def run_db(runtime: Runtime, args: argparse.Namespace) -> int:
    """Upgrade the schema, or print its revision."""
    url = runtime.settings.db_url.render_as_string(hide_password=False)
    if args.db_command == "upgrade":
        migrate.upgrade(url)
    print(migrate.current_revision(runtime.engine) or "none")
    return 0


def run_tick(runtime: Runtime, args: argparse.Namespace) -> int:
    """Run what is due at `--at`, deliver the outbox, print a summary."""
    from copbot.scheduling.runner import tick

    _check_schema(runtime)
    report = tick(args.at, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    delivery = report.delivery
    print(
        f"tick {args.at.isoformat()}: {report.jobs_run} jobs ({report.jobs_failed} failed); "
        f"delivered {delivery.delivered}, retrying {delivery.retried}, failed {delivery.failed}"
    )
    return 1 if report.jobs_failed else 0


def run_export(runtime: Runtime, args: argparse.Namespace) -> int:
    """Write the records as JSON or CSV."""
    from copbot import export

    _check_schema(runtime)
    with runtime.deps.sessions() as session:
        records = export.collect(session, runtime.deps.features, team_id=args.team, channel_id=args.community)
    sys.stdout.write(export.render(records, fmt=args.format))
    return 0


def run_forget(runtime: Runtime, args: argparse.Namespace) -> int:
    """Forget a user in one workspace, as `/cop forget-me` does, and say what was touched."""
    from copbot import privacy
    from copbot.db import session_scope
    from copbot.feature import Person
    from copbot.people.handlers import hash_key_for

    _check_schema(runtime)
    try:
        with session_scope(runtime.deps.sessions) as session:
            person = Person(args.team, args.user, hash_key_for(runtime.settings))
            report = privacy.forget(session, runtime.deps.features, person)
    except CopbotError as error:
        print(f"copbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    touched = ", ".join(f"{table} {count}" for table, count in sorted(report.counts.items())) or "nothing"
    print(f"forgot {args.user} in {args.team}: {touched}")
    return 0


def _check_schema(runtime: Runtime) -> None:
    current, head = migrate.current_revision(runtime.engine), migrate.head_revision()
    if current != head:
        print(
            f"copbot: the database schema is at {current or 'nothing'}, not {head}: run `copbot db upgrade`",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_USAGE)


COMMANDS = {
    "serve": run_serve,
    "worker": run_worker,
    "db": run_db,
    "tick": run_tick,
    "export": run_export,
    "forget": run_forget,
}
