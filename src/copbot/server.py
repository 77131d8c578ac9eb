"""The HTTP app: `POST /slack/events` into Bolt, `GET /healthz` for load balancers and orchestrators."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from copbot import migrate
from copbot.app import RECEIVED_AT
from copbot.oauth.flow import INSTALL_PATH, REDIRECT_PATH
from copbot.slack import gate

log = logging.getLogger(__name__)


def health(engine: Engine, head: str | None) -> tuple[int, dict[str, Any]]:
    """Report 200 while the database answers and its schema is at head, else 503."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = migrate.current_revision(engine)
    except Exception as error:
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return 503, {"status": "unavailable", "database": "unreachable", "schema": None}
    if revision != head:
        return 503, {"status": "unavailable", "database": "ok", "schema": revision, "expected": head}
    return 200, {"status": "ok", "database": "ok", "schema": revision}


def create_http_app(
    bolt: App,
    engine: Engine,
    *,
    threads: int = 40,
    head: str | None = None,
    signing_secret: str | None = None,
) -> Starlette:
    """Build the ASGI app around the Bolt app; Bolt runs on the thread pool, never on the event loop.

    `head` is the schema revision the code expects (`copbot serve` has it from the migration child);
    without it, Alembic is asked here. `signing_secret` (default: the Bolt app's) lets the edge refuse
    unsigned or malformed requests before Bolt's listeners see them.
    """
    head = head or migrate.head_revision()
    secret = signing_secret or bolt._signing_secret

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Requests wait for a thread from this pool; size it for the load, not anyio's default of 40.
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    async def slack_events(request: Request) -> Response:
        received_at = time.monotonic()  # the ack budget counts the wait for a thread too
        raw = await request.body()
        refusal = gate.check(raw, request.headers, secret)
        if refusal is None:
            try:
                bolt_request = BoltRequest(
                    body=raw.decode("utf-8"),
                    query=request.url.query,
                    headers=dict(request.headers),
                    context={RECEIVED_AT: received_at},
                )
            except gate.PARSE_ERRORS:
                refusal = gate.NOT_PARSED
            else:
                refusal = gate.shape(bolt_request.body)
        if refusal is not None:
            gate.refuse(refusal)
            return Response(status_code=refusal.status)
        return _to_starlette(await run_in_threadpool(bolt.dispatch, bolt_request))

    async def oauth(request: Request) -> Response:
        flow = bolt.oauth_flow
        if flow is None:
            return Response("Not found", status_code=404)
        bolt_request = BoltRequest(body="", query=request.url.query, headers=dict(request.headers))
        handle = flow.handle_installation if request.url.path == flow.install_path else flow.handle_callback
        bolt_response = await run_in_threadpool(handle, bolt_request)
        return _to_starlette(bolt_response)

    async def healthz(request: Request) -> Response:
        status, report = await run_in_threadpool(health, engine, head)
        return JSONResponse(report, status_code=status)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route(INSTALL_PATH, oauth, methods=["GET"]),
        Route(REDIRECT_PATH, oauth, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _to_starlette(bolt_response: BoltResponse) -> Response:
    response = Response(status_code=bolt_response.status, content=bolt_response.body)
    for name, values in bolt_response.headers.items():
        if name.lower() == "content-length":
            continue
        for value in values:  # Set-Cookie may come more than once
            response.headers.append(name, value)
    return response
