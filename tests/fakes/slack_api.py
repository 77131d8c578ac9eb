"""A fake Slack Web API on loopback: real HTTP, recorded calls, realistic answers and scripted failures.

Point ``slack_sdk.WebClient(base_url=fake.url)`` at it. Every request is recorded as a :class:`Call`;
the fake keeps just enough state (messages, views, users, uploads) to answer like Slack does.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import itertools
import json
import socket
import threading
import time
import traceback
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

import yaml

from copbot import manifest
from tests.fakes.blockkit import VIEW_METHODS, problems_in_call
from tests.slack_reference.scopes import METHOD_SCOPES, conversation_kind, needed_scopes

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
DEFAULT_TEAM = "T1"
JSON_PARAMS = frozenset(
    {
        "blocks",
        "view",
        "metadata",
        "attachments",
        "files",
        "users",
        "outputs",
        "document_content",
        "changes",
        "criteria",
    }
)
NO_AUTH_METHODS = frozenset({"oauth.v2.access", "oauth.v2.exchange", "oauth.access"})

Params = dict[str, Any]
ApiHandler = Callable[[Params, "str | None"], Params]


@dataclass
class Call:
    """One request the fake received (header names are lower-case)."""

    method: str
    params: dict[str, Any]
    token: str | None
    headers: dict[str, str]
    outcome: str = "ok"


@dataclass
class FunctionExecution:
    """A custom step Slack started (function_executed) and waits to hear the end of."""

    execution_id: str
    token: str
    required_outputs: tuple[str, ...] = ()
    state: str = "running"  # running | completed | failed
    outputs: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class Failure:
    """A scripted failure for one call to one method."""

    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    drop: bool = False
    apply: bool = False
    late: float | None = None  # the effect shows only this many seconds (of ts_clock) later
    hold: float = 0.0  # seconds the connection is held open before it is dropped


@dataclass
class Reply:
    """What the fake sends back for one request."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    outcome: str = "ok"
    hold: float = 0.0

    @classmethod
    def json(cls, data: Params, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        """A JSON reply whose outcome follows from the status and the ``ok`` field."""
        if status != 200:
            outcome = f"http:{status}"
        elif data.get("ok", True) is False:
            outcome = f"error:{data.get('error')}"
        else:
            outcome = "ok"
        body = json.dumps(data).encode()
        return cls(status=status, body=body, headers=headers or {}, outcome=outcome)

    @classmethod
    def text(cls, text: str, status: int = 200) -> Reply:
        """A plain-text reply."""
        return cls(status=status, body=text.encode(), content_type="text/plain; charset=utf-8")


class ApiError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": code}``."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --------------------------------------------------------------------------- request parsing


def read_body(rfile: BinaryIO, headers: dict[str, str]) -> bytes:
    """Read a request body, by Content-Length or chunked."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return _read_chunked(rfile)
    length = int(headers.get("content-length") or 0)
    return rfile.read(length) if length > 0 else b""


def _read_chunked(rfile: BinaryIO) -> bytes:
    chunks = []
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            rfile.readline()
            return b"".join(chunks)
        chunks.append(rfile.read(size))
        rfile.readline()


def parse_params(query: str, body: bytes, content_type: str) -> Params:
    """Merge query-string and body parameters, decoding JSON-valued keys."""
    params = _form(query)
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        params.update(_json_body(body))
    elif kind == "multipart/form-data":
        params.update(_multipart(body, content_type))
    elif body:
        params.update(_form(body.decode("utf-8", "replace")))
    return _decode_json_params(params)


def _form(text: str) -> Params:
    parsed = parse_qs(text, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def _json_body(body: bytes) -> Params:
    if not body.strip():
        return {}
    data = json.loads(body)
    return data if isinstance(data, dict) else {"_body": data}


def _multipart(body: bytes, content_type: str) -> Params:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: Params = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        params[str(name)] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    return params


def _decode_json_params(params: Params) -> Params:
    for key in JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def bearer_token(headers: dict[str, str]) -> str | None:
    """The token from an ``Authorization: Bearer ...`` header, if any."""
    auth = headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None
    return auth[7:].strip() or None


def truthy(value: Any) -> bool:
    """Slack's idea of a true flag: True, "true", "1"."""
    return value is True or str(value).lower() in ("true", "1")


def _failure_reply(failure: Failure) -> Reply:
    if failure.drop:
        return Reply(drop=True, outcome="late" if failure.late is not None else "dropped", hold=failure.hold)
    if failure.status == 429:
        headers = {"Retry-After": str(failure.retry_after or 1)}
        return Reply.json({"ok": False, "error": failure.error or "ratelimited"}, 429, headers)
    if failure.status != 200:
        return Reply.json({"ok": False, "error": failure.error or "internal_error"}, failure.status)
    return Reply.json({"ok": False, "error": failure.error})


def _ts_key(ts: Any) -> Decimal:
    return Decimal(str(ts))


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 resets connections when many clients post at once
    allow_reuse_address = True
    fake: FakeSlack

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: the fake records its own errors in ``FakeSlack.errors``."""

    def process_request(self, request: Any, client_address: Any) -> None:
        """Count the connection, then serve it in its own thread."""
        self.fake._opened(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection as it closes."""
        self.fake._closed(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as Slack: one connection serves many requests
    # The head and the body of an answer go out in two writes: without TCP_NODELAY (which servers set)
    # the body would wait for the client's delayed ACK of the head, 40 ms, on every kept-alive answer.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        """Close the connection once idle for the fake's `idle_timeout`, as servers do."""
        self.timeout = self.server.fake.idle_timeout
        super().setup()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve()

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Suppress the default request logging."""

    def _serve(self) -> None:
        headers = {key.lower(): value for key, value in self.headers.items()}
        try:
            body = read_body(self.rfile, headers)
        except (OSError, ValueError) as exc:
            reply = self.server.fake.crashed(self.path, headers, exc)
        else:
            reply = self.server.fake.handle(self.path, headers, body)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if reply.drop:
            time.sleep(reply.hold)  # a slow Slack: the client gives up before anything comes back
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True


# --------------------------------------------------------------------------- the fake


class FakeSlack:
    """A fake Slack Web API served over real HTTP on 127.0.0.1."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.strict_tokens = False
        # The bot scopes the installed app was granted: the manifest's, as Slack grants them on install.
        # A method that needs another answers `missing_scope`, as Slack does.
        self.bot_scopes: set[str] = manifest_bot_scopes()
        self.mpim_channels: set[str] = set()  # G... ids that are group DMs rather than private channels
        self.expired_tokens: set[str] = set()  # rotated away: `token_expired`, as Slack answers
        # Block Kit that slack-sdk's models refuse, one line per call: the fixture fails the test on any.
        self.invalid_payloads: list[str] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channel_names: dict[str, str] = {}
        self.archived: set[str] = set()
        self.joined: set[str] = set()
        self.needs_join: set[str] = set()
        self.messages: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.oauth_responses: dict[str, dict[str, Any]] = {}
        self.socket_mode_url: str | None = None  # apps.connections.open's answer when set
        self.executions: dict[str, FunctionExecution] = {}  # custom workflow steps Slack is running
        self.usergroups: dict[str, dict[str, Any]] = {}  # by id, as usergroups.* return them
        self.canvases: dict[str, list[dict[str, str]]] = {}  # canvas id -> its elements, in order
        self.channel_canvases: dict[str, str] = {}  # channel id -> its channel canvas
        self.errors: list[str] = []
        self.ts_clock: Callable[[], float] = time.time
        self.delays: dict[str, float] = {}  # a slow Slack: seconds each method waits before answering
        # Called with each request's path as it arrives, before it is answered (the caller is still waiting).
        self.on_request: list[Callable[[str], None]] = []
        self.idle_timeout = 60.0  # seconds a kept-alive connection may wait for its next request
        self.connections_accepted = 0
        self._connections: set[socket.socket] = set()
        self._calls: list[Call] = []
        self._failures: defaultdict[str, deque[Failure]] = defaultdict(deque)
        self._cond = threading.Condition(threading.RLock())
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._post_interval: float | None = None
        self._late_by: float | None = None
        self._last_post: dict[str, float] = {}
        self._server: _Server | None = None
        self.scheme = "http"  # "https" once a benchmark wraps the socket in TLS (bench/slack_connections.py)
        self._thread: threading.Thread | None = None
        self._api: dict[str, ApiHandler] = self._api_table()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._cond:  # a stopped server drops its kept-alive connections, so clients see them closed
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` (https when served over TLS)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The WebClient base_url: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.base}/api/"

    def response_url(self, name: str = "r") -> str:
        """A response_url whose POSTs are recorded as method ``response_url``."""
        return f"{self.base}/response/{name}"

    @property
    def connections_open(self) -> int:
        """Client connections open now (kept alive between requests, or serving one)."""
        with self._cond:
            return len(self._connections)

    def _opened(self, connection: socket.socket) -> None:
        with self._cond:
            self.connections_accepted += 1
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._cond:
            self._connections.discard(connection)

    # ----------------------------------------------------------------- recorded calls

    @property
    def calls(self) -> list[Call]:
        """A copy of every recorded call, oldest first."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls to one method."""
        with self._cond:
            return [call for call in self._calls if call.method == method]

    def clear(self) -> None:
        """Forget the recorded calls (state such as messages is kept)."""
        with self._cond:
            self._calls.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` were recorded; return them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.calls_to(method)) >= count, timeout):
                seen = len(self.calls_to(method))
                raise AssertionError(
                    f"expected {count} call(s) to {method} within {timeout}s, got {seen}; "
                    f"methods seen: {self._seen()}"
                )
            return self.calls_to(method)

    def wait_for_call(self, predicate: Callable[[Call], bool], timeout: float = 5.0) -> Call:
        """Block until a recorded call satisfies ``predicate``; return the first such call."""
        with self._cond:
            found: list[Call] = []

            def matched() -> bool:
                found[:] = [call for call in self._calls if predicate(call)][:1]
                return bool(found)

            if not self._cond.wait_for(matched, timeout):
                raise AssertionError(
                    f"no call matched the predicate within {timeout}s; methods seen: {self._seen()}"
                )
            return found[0]

    def _seen(self) -> dict[str, int]:
        return dict(Counter(call.method for call in self._calls))

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    # ----------------------------------------------------------------- scripting

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        drop: bool = False,
        times: int = 1,
        apply: bool = False,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (``apply``: take effect, then fail)."""
        if error is None and status == 200 and not drop:
            raise ValueError("fail_next needs error=..., a non-200 status, or drop=True")
        failure = Failure(error=error, status=status, retry_after=retry_after, drop=drop, apply=apply)
        with self._cond:
            self._failures[method].extend([failure] * times)

    def post_late(self, after: float, *, hold: float = 0.0, times: int = 1) -> None:
        """Make the next ``times`` chat.postMessage calls post ``after`` seconds late (by ``ts_clock``)
        while their answers never arrive: the connection is held ``hold`` seconds, then closed."""
        failure = Failure(drop=True, apply=True, late=after, hold=hold)
        with self._cond:
            self._failures["chat.postMessage"].extend([failure] * times)

    def rate_limit_post_message(self, per_channel_per_second: float | None = 1.0) -> None:
        """Answer 429 to chat.postMessage calls faster than this per channel (None or 0: off)."""
        with self._cond:
            rate = per_channel_per_second
            self._post_interval = 1.0 / rate if rate else None
            self._last_post.clear()

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str = DEFAULT_TEAM,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "UTC",
        tz_offset: int = 0,
        real_name: str | None = None,
        profile: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add (or replace) a user that users.info will return."""
        user = _user(user_id, team_id, real_name)
        user.update(is_bot=is_bot, deleted=deleted, tz=tz, tz_label=tz, tz_offset=tz_offset)
        user["profile"].update(profile or {})
        with self._cond:
            self.users[user_id] = user
        return user

    def start_execution(
        self, execution_id: str, *, token: str, required_outputs: tuple[str, ...] = ()
    ) -> FunctionExecution:
        """Record a custom step Slack is running (before sending its function_executed event)."""
        execution = FunctionExecution(execution_id, token, tuple(required_outputs))
        with self._cond:
            self.executions[execution_id] = execution
            self.tokens.setdefault(token, DEFAULT_TEAM)
        return execution

    def add_channel_canvas(self, channel: str, markdown: str) -> str:
        """A channel canvas as if people had made it; return its id."""
        with self._cond:
            canvas_id = self._next_id("F")
            self.canvases[canvas_id] = _canvas_elements(markdown, self._next_id)
            self.channel_canvases[channel] = canvas_id
            return canvas_id

    def canvas_markdown(self, canvas_id: str) -> str:
        """A canvas's content, one line per element, as markdown."""
        with self._cond:
            return "\n".join(_element_markdown(e) for e in self.canvases[canvas_id])

    def add_message(
        self, channel: str, text: str = "", *, user: str = "U1", thread_ts: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Store a message as if a person had posted it; return it (with its ``ts``)."""
        with self._cond:
            message = {"type": "message", "ts": self._next_ts(), "user": user, "text": text, **extra}
            if thread_ts:
                message["thread_ts"] = thread_ts
            self._store(channel, message)
            return dict(message)

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """The messages of a channel that have appeared by now, oldest first."""
        with self._cond:
            return [_visible(m, True) for m in self.messages.get(channel, []) if self._appeared(m)]

    def _appeared(self, message: dict[str, Any]) -> bool:
        """Whether a message posted late has shown up yet."""
        return message.get("_visible_at", 0) <= self.ts_clock()

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One stored message, or None."""
        with self._cond:
            found = self._find(channel, ts)
            return dict(found) if found else None

    # ----------------------------------------------------------------- request handling

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one HTTP request (called from the server threads)."""
        method, params, token = path, {}, None
        for observe in self.on_request:
            observe(path)
        try:
            parts = urlsplit(path)
            route, _, name = parts.path.lstrip("/").partition("/")
            if route == "upload":
                method, params = "file_upload", {"file_id": name, "length": len(body)}
                return self._process(method, params, None, headers, lambda: self._upload(name, body))
            params = parse_params(parts.query, body, headers.get("content-type", ""))
            if route == "response":
                method, params = "response_url", {**params, "_path": name}
                return self._process(method, params, None, headers, lambda: Reply.text("ok"))
            if route != "api" or not name:
                method = f"unknown:{parts.path}"
                return self._process(method, params, None, headers, lambda: Reply.text("not found", 404))
            method = name
            time.sleep(self.delays.get(name, 0.0))
            token = bearer_token(headers) or _pop_token(params)
            params.pop("token", None)  # also when the header won
            return self._process(method, params, token, headers, lambda: self._call_api(name, params, token))
        except Exception as exc:
            return self._crash(method, params, token, headers, exc)

    def crashed(self, path: str, headers: dict[str, str], exc: Exception) -> Reply:
        """Record a request that could not even be read."""
        return self._crash(path, {}, None, headers, exc)

    def _crash(
        self, method: str, params: Params, token: str | None, headers: dict[str, str], exc: Exception
    ) -> Reply:
        with self._cond:
            self.errors.append("".join(traceback.format_exception(exc)))
        reply = Reply.json({"ok": False, "error": f"fake_slack_crash: {exc!r}"}, 500)
        self._record(Call(method, params, token, headers, reply.outcome))
        return reply

    def _process(
        self,
        method: str,
        params: Params,
        token: str | None,
        headers: dict[str, str],
        effect: Callable[[], Reply],
    ) -> Reply:
        with self._cond:
            failure = self._take_failure(method) or self._rate_limited(method, params)
            refused = self._refused_blocks(method, params)
            if refused is not None:
                reply = refused
            elif failure is None:
                reply = effect()
            else:
                if failure.apply:
                    self._late_by = failure.late
                    try:
                        effect()
                    finally:
                        self._late_by = None
                reply = _failure_reply(failure)
            self._record(Call(method, params, token, headers, reply.outcome))
        return reply

    def _refused_blocks(self, method: str, params: Params) -> Reply | None:
        """Slack refuses a view or blocks its own models refuse: `invalid_arguments` / `invalid_blocks`."""
        problems = problems_in_call(method, params)
        if not problems:
            return None
        self.invalid_payloads.append(f"{method}: " + "; ".join(problems))
        error = "invalid_arguments" if method in VIEW_METHODS else "invalid_blocks"
        return Reply.json({"ok": False, "error": error, "response_metadata": {"messages": problems}})

    def _take_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    def _rate_limited(self, method: str, params: Params) -> Failure | None:
        if method != "chat.postMessage" or self._post_interval is None:
            return None
        channel, now = str(params.get("channel")), time.monotonic()
        last = self._last_post.get(channel)
        if last is not None and now - last < self._post_interval:
            return Failure(status=429, retry_after=1)
        self._last_post[channel] = now
        return None

    def _call_api(self, method: str, params: Params, token: str | None) -> Reply:
        if self.strict_tokens and method not in NO_AUTH_METHODS and token not in self.tokens:
            return Reply.json({"ok": False, "error": "invalid_auth"})
        if token in self.expired_tokens:
            return Reply.json({"ok": False, "error": "token_expired"})
        missing = self._missing_scopes(method, params)
        if missing:
            needed = ",".join(sorted(missing))
            provided = ",".join(sorted(self.bot_scopes))
            return Reply.json({"ok": False, "error": "missing_scope", "needed": needed, "provided": provided})
        handler = self._api.get(method)
        try:
            data = handler(params, token) if handler else {}
        except ApiError as exc:
            return Reply.json({"ok": False, "error": exc.code})
        return Reply.json({"ok": True, **data})

    def _missing_scopes(self, method: str, params: Params) -> set[str]:
        if method not in METHOD_SCOPES:
            return set()
        if not isinstance(METHOD_SCOPES[method], dict):
            return needed_scopes(method) - self.bot_scopes
        channel = self._channel_for(str(params.get("channel") or ""))
        if not channel:
            return set()  # the handler answers channel_not_found
        kind = conversation_kind(channel, mpim=channel in self.mpim_channels)
        return needed_scopes(method, [kind]) - self.bot_scopes

    def _upload(self, file_id: str, body: bytes) -> Reply:
        self.uploads[file_id] = body
        return Reply.text(f"OK - {len(body)}")

    # ----------------------------------------------------------------- state helpers

    def _team(self, token: str | None) -> str:
        return self.tokens.get(token or "", DEFAULT_TEAM)

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _next_ts(self) -> str:
        now_us = int(self.ts_clock() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 100)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _find(self, channel: str, ts: Any) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == str(ts)), None)

    def _store(self, channel: str, message: dict[str, Any]) -> None:
        if self._late_by is not None:
            message["_visible_at"] = self.ts_clock() + self._late_by
        self.messages[channel].append(message)
        thread_ts = message.get("thread_ts")
        parent = self._find(channel, thread_ts) if thread_ts and thread_ts != message["ts"] else None
        if parent is not None:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = message["ts"]

    @staticmethod
    def _channel_for(channel: str) -> str:
        return f"D{channel}" if channel[:1] in ("U", "W") else channel

    def _channel_info(self, channel: str) -> dict[str, Any]:
        return {
            "id": channel,
            "name": self.channel_names.get(channel, channel.lower()),
            "is_channel": channel[:1] == "C",
            "is_group": channel[:1] == "G",
            "is_im": channel[:1] == "D",
            "is_private": channel[:1] in ("G", "D"),
            "is_archived": channel in self.archived,
            "is_member": channel in self.joined or channel not in self.needs_join,
            "properties": (
                {
                    "canvas": {
                        "file_id": self.channel_canvases[channel],
                        "is_empty": False,
                        "quip_thread_id": "",
                    }
                }
                if channel in self.channel_canvases
                else {}
            ),
        }

    # ----------------------------------------------------------------- Web API methods

    def _api_table(self) -> dict[str, ApiHandler]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.info": self._conversations_info,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.profile.get": self._users_profile_get,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
            "apps.connections.open": self._apps_connections_open,
            "usergroups.create": self._usergroups_create,
            "usergroups.users.update": self._usergroups_users_update,
            "usergroups.disable": self._usergroups_disable,
            "usergroups.enable": self._usergroups_enable,
            "conversations.canvases.create": self._conversations_canvases_create,
            "canvases.sections.lookup": self._canvases_sections_lookup,
            "canvases.edit": self._canvases_edit,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
        }

    def _auth_test(self, params: Params, token: str | None) -> Params:
        team = self._team(token)
        if team.startswith("E"):  # an org-wide (Enterprise Grid) token: the org, no workspace
            return {
                "url": f"https://{team.lower()}.enterprise.example.slack.com/",
                "team": None,
                "team_id": None,
                "enterprise_id": team,
                "user": "copbot",
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": True,
            }
        return {
            "url": f"https://{team.lower()}.example.slack.com/",
            "team": "Team",
            "team_id": team,
            "user": "copbot",
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: Params, token: str | None) -> Params:
        channel = self._channel_for(_require(params, "channel", "channel_not_found"))
        self._check_postable(channel)
        message = {
            "type": "message",
            "ts": self._next_ts(),
            "text": params.get("text") or "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": self._team(token),
        }
        for key in ("blocks", "metadata", "thread_ts", "attachments"):
            if params.get(key) not in (None, ""):
                message[key] = params[key]
        if truthy(params.get("reply_broadcast")):
            message["reply_broadcast"] = True
        self._store(channel, message)
        return {"channel": channel, "ts": message["ts"], "message": dict(message)}

    def _check_postable(self, channel: str) -> None:
        if channel in self.archived:
            raise ApiError("is_archived")
        if channel in self.needs_join and channel not in self.joined:
            raise ApiError("not_in_channel")

    def _chat_update(self, params: Params, token: str | None) -> Params:
        channel = self._channel_for(_require(params, "channel", "channel_not_found"))
        message = self._find(channel, _require(params, "ts", "message_not_found"))
        if message is None:
            raise ApiError("message_not_found")
        for key in ("text", "blocks", "metadata", "attachments"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": dict(message),
        }

    def _chat_post_ephemeral(self, params: Params, token: str | None) -> Params:
        _require(params, "channel", "channel_not_found")
        _require(params, "user", "user_not_in_channel")
        return {"message_ts": self._next_ts()}

    def _chat_delete(self, params: Params, token: str | None) -> Params:
        channel = self._channel_for(_require(params, "channel", "channel_not_found"))
        ts = str(params.get("ts"))
        self.messages[channel] = [m for m in self.messages.get(channel, []) if m["ts"] != ts]
        return {"channel": channel, "ts": ts}

    def _chat_get_permalink(self, params: Params, token: str | None) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        ts = str(_require(params, "message_ts", "message_not_found"))
        return {
            "channel": channel,
            "permalink": f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, params: Params, token: str | None) -> Params:
        users = params.get("users")
        if isinstance(users, str):
            users = [user.strip() for user in users.split(",") if user.strip()]
        if users:
            return {"channel": {"id": f"D{users[0]}"}}
        if params.get("channel"):
            return {"channel": {"id": params["channel"]}}
        raise ApiError("users_list_not_supplied")

    def _conversations_join(self, params: Params, token: str | None) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        if channel in self.archived:
            raise ApiError("is_archived")
        self.joined.add(channel)
        return {"channel": self._channel_info(channel)}

    def _conversations_history(self, params: Params, token: str | None) -> Params:
        channel = self._channel_for(_require(params, "channel", "channel_not_found"))
        top = [
            m
            for m in self.messages.get(channel, [])
            if (m.get("thread_ts", m["ts"]) == m["ts"] or m.get("reply_broadcast")) and self._appeared(m)
        ]
        selected = _between(top, params.get("oldest"), params.get("latest"), truthy(params.get("inclusive")))
        selected.sort(key=lambda m: _ts_key(m["ts"]), reverse=True)
        page, cursor = _page(selected, params)
        with_metadata = truthy(params.get("include_all_metadata"))
        messages = [_visible(m, with_metadata) for m in page]
        return {
            "messages": messages,
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_replies(self, params: Params, token: str | None) -> Params:
        channel = self._channel_for(_require(params, "channel", "channel_not_found"))
        ts = str(_require(params, "ts", "thread_not_found"))
        if (channel, ts) in self.threads:
            return {"messages": self.threads[(channel, ts)], "has_more": False}
        thread = [m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread:
            raise ApiError("thread_not_found")
        thread.sort(key=lambda m: _ts_key(m["ts"]))
        with_metadata = truthy(params.get("include_all_metadata"))
        return {
            "messages": [_visible(m, with_metadata) for m in thread],
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_info(self, params: Params, token: str | None) -> Params:
        return {"channel": self._channel_info(_require(params, "channel", "channel_not_found"))}

    def _view_result(self, view: Any, view_id: str | None, token: str | None) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments")
        result = {
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            **view,
            "id": view_id or self._next_id("V"),
            "hash": self._next_id("h"),
            "team_id": self._team(token),
            "app_id": "A1",
            "bot_id": BOT_ID,
        }
        self.views[result["id"]] = result
        return result

    def _views_open(self, params: Params, token: str | None) -> Params:
        return {"view": self._view_result(params.get("view"), None, token)}

    def _views_update(self, params: Params, token: str | None) -> Params:
        view_id = params.get("view_id") or None
        stored = self.views.get(view_id) if view_id else None
        if stored is not None and params.get("hash") and params["hash"] != stored["hash"]:
            raise ApiError("hash_conflict")
        return {"view": self._view_result(params.get("view"), view_id, token)}

    def _views_publish(self, params: Params, token: str | None) -> Params:
        user_id = _require(params, "user_id", "invalid_arguments")
        view = self._view_result(params.get("view"), None, token)
        self.home_views[user_id] = view
        return {"view": view}

    def _user(self, user_id: str) -> dict[str, Any]:
        return self.users.get(user_id) or _user(user_id, DEFAULT_TEAM, None)

    def _users_info(self, params: Params, token: str | None) -> Params:
        return {"user": self._user(_require(params, "user", "user_not_found"))}

    def _users_profile_get(self, params: Params, token: str | None) -> Params:
        return {"profile": self._user(params.get("user") or BOT_USER_ID)["profile"]}

    def _files_get_upload_url(self, params: Params, token: str | None) -> Params:
        file_id = self._next_id("F")
        name = params.get("filename") or "file"
        self.files[file_id] = {"id": file_id, "name": name, "length": int(params.get("length") or 0)}
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: Params, token: str | None) -> Params:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        files = []
        for entry in entries:
            known = self.files.get(entry.get("id"))
            if known is None or entry["id"] not in self.uploads:
                raise ApiError("file_not_found")
            channel = params.get("channel_id")
            known.update(
                title=entry.get("title") or known["name"],
                size=len(self.uploads[entry["id"]]),
                channels=[channel] if channel else [],
            )
            files.append(dict(known))
        return {"files": files}

    def _oauth_v2_access(self, params: Params, token: str | None) -> Params:
        # keyed by the authorisation code, or by the refresh token for a token rotation
        key = params.get("code") or params.get("refresh_token")
        response = self.oauth_responses.pop(str(key), None)
        if response is None:
            raise ApiError("invalid_code")
        if params.get("grant_type") == "refresh_token":
            self._rotate(response)
        return response

    def _rotate(self, response: Params) -> None:
        """A refresh retires the workspace's previous tokens: they answer `token_expired` from now on."""
        new_token = response.get("access_token")
        team = (response.get("team") or {}).get("id") or (response.get("enterprise") or {}).get("id")
        for token, owner in list(self.tokens.items()):
            if owner == team and token != new_token:
                self.expired_tokens.add(token)
        if new_token and team:
            self.tokens[new_token] = team

    def _apps_connections_open(self, params: Params, token: str | None) -> Params:
        return {"url": self.socket_mode_url or "wss://127.0.0.1:1/never"}

    def _usergroups_create(self, params: Params, token: str | None) -> Params:
        name = _require(params, "name", "missing_argument")
        handle = str(params.get("handle") or "")
        taken = {(g["name"], g["handle"]) for g in self.usergroups.values()}
        if any(name == n or (handle and handle == h) for n, h in taken):
            raise ApiError("name_already_exists")
        stamp = int(self.ts_clock())
        group = {
            "id": self._next_id("S"),
            "team_id": self._team(token),
            "is_usergroup": True,
            "is_subteam": True,
            "name": name,
            "description": str(params.get("description") or ""),
            "handle": handle,
            "is_external": False,
            "date_create": stamp,
            "date_update": stamp,
            "date_delete": 0,
            "auto_type": None,
            "auto_provision": False,
            "enterprise_subteam_id": "",
            "created_by": BOT_USER_ID,
            "updated_by": BOT_USER_ID,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "users": [],
            "user_count": 0,
        }
        self.usergroups[group["id"]] = group
        return {"usergroup": dict(group)}

    def _usergroup(self, params: Params) -> dict[str, Any]:
        group = self.usergroups.get(str(params.get("usergroup") or ""))
        if group is None:
            raise ApiError("no_such_subteam")
        return group

    def _usergroups_users_update(self, params: Params, token: str | None) -> Params:
        group = self._usergroup(params)
        users = params.get("users")
        if isinstance(users, str):
            users = [u.strip() for u in users.split(",") if u.strip()]
        if not users:
            raise ApiError("no_users_provided")  # Slack refuses to empty a group
        if not all(isinstance(u, str) and u[:1] in ("U", "W") for u in users):
            raise ApiError("invalid_users")
        group.update(users=list(users), user_count=len(users), date_update=int(self.ts_clock()))
        return {"usergroup": dict(group)}

    def _usergroups_disable(self, params: Params, token: str | None) -> Params:
        group = self._usergroup(params)
        if group["date_delete"]:
            raise ApiError("already_disabled")
        group.update(date_delete=int(self.ts_clock()), deleted_by=BOT_USER_ID)
        return {"usergroup": dict(group)}

    def _usergroups_enable(self, params: Params, token: str | None) -> Params:
        group = self._usergroup(params)
        if not group["date_delete"]:
            raise ApiError("already_enabled")
        group.update(date_delete=0, deleted_by=None, date_update=int(self.ts_clock()))
        return {"usergroup": dict(group)}

    def _document(self, params: Params) -> str:
        content = params.get("document_content")
        if content in (None, ""):
            return ""
        if not isinstance(content, dict) or content.get("type") != "markdown":
            raise ApiError("invalid_arguments")
        return str(content.get("markdown") or "")

    def _conversations_canvases_create(self, params: Params, token: str | None) -> Params:
        channel = _require(params, "channel_id", "channel_not_found")
        if channel in self.archived:
            raise ApiError("is_archived")
        if channel in self.channel_canvases:
            raise ApiError("channel_canvas_already_exists")
        canvas_id = self._next_id("F")
        self.canvases[canvas_id] = _canvas_elements(self._document(params), self._next_id)
        self.channel_canvases[channel] = canvas_id
        return {"canvas_id": canvas_id}

    def _canvas(self, params: Params) -> list[dict[str, str]]:
        canvas = self.canvases.get(str(params.get("canvas_id") or ""))
        if canvas is None:
            raise ApiError("canvas_not_found")
        return canvas

    def _canvases_sections_lookup(self, params: Params, token: str | None) -> Params:
        canvas = self._canvas(params)
        criteria = params.get("criteria")
        if not isinstance(criteria, dict) or not (
            criteria.get("section_types") or criteria.get("contains_text")
        ):
            raise ApiError("invalid_arguments")
        types = set(criteria.get("section_types") or [])
        text = criteria.get("contains_text")
        found = [
            {"id": e["id"]}
            for e in canvas
            if (not types or e["type"] in types or ("any_header" in types and e["type"] in HEADERS))
            and (text is None or text in e["text"])
        ]
        return {"sections": found}

    def _canvases_edit(self, params: Params, token: str | None) -> Params:
        canvas = self._canvas(params)
        changes = params.get("changes")
        if not isinstance(changes, list) or len(changes) != 1 or not isinstance(changes[0], dict):
            raise ApiError("invalid_arguments")  # one change per call
        change = changes[0]
        content = change.get("document_content")
        added = _canvas_elements(self._document({"document_content": content}), self._next_id)
        operation, section = change.get("operation"), change.get("section_id")
        at = next((i for i, e in enumerate(canvas) if e["id"] == section), None)
        if section and at is None:
            raise ApiError("canvas_editing_failed")
        if operation == "insert_at_end":
            canvas.extend(added)
        elif operation == "insert_at_start":
            canvas[:0] = added
        elif operation == "replace" and at is None:
            canvas[:] = added
        elif operation == "replace" and at is not None:
            canvas[at : _section_end(canvas, at)] = added
        elif operation in ("insert_after", "insert_before") and at is not None:
            index = at + 1 if operation == "insert_after" else at
            canvas[index:index] = added
        elif operation == "delete" and at is not None:
            del canvas[at]
        else:
            raise ApiError("invalid_arguments")
        return {}

    def _running_execution(self, params: Params, token: str | None) -> FunctionExecution:
        execution = self.executions.get(str(params.get("function_execution_id") or ""))
        if execution is None:
            raise ApiError("function_execution_not_found")
        if token != execution.token and not str(token or "").startswith("xoxb-"):
            raise ApiError("access_denied")
        if execution.state != "running":
            raise ApiError("execution_not_in_running_state")
        return execution

    def _functions_complete_success(self, params: Params, token: str | None) -> Params:
        execution = self._running_execution(params, token)
        outputs = params.get("outputs")
        if not isinstance(outputs, dict) or any(name not in outputs for name in execution.required_outputs):
            raise ApiError("parameter_validation_failed")
        execution.state, execution.outputs = "completed", outputs
        return {}

    def _functions_complete_error(self, params: Params, token: str | None) -> Params:
        execution = self._running_execution(params, token)
        execution.state, execution.error = "failed", str(_require(params, "error", "invalid_arguments"))
        return {}


# --------------------------------------------------------------------------- small pure helpers


def manifest_bot_scopes() -> set[str]:
    """The bot scopes copbot's manifest declares."""
    return set(yaml.safe_load(manifest.render())["oauth_config"]["scopes"]["bot"])


def _pop_token(params: Params) -> str | None:
    token = params.pop("token", None)
    return str(token) if token else None


def _require(params: Params, key: str, error: str) -> str:
    value = params.get(key)
    if value in (None, ""):
        raise ApiError(error)
    return str(value)


HEADERS = ("h1", "h2", "h3")


def _canvas_elements(markdown: str, next_id: Callable[[str], str]) -> list[dict[str, str]]:
    """Markdown as canvas elements: a heading per `#`-line, a paragraph per other non-empty line."""
    elements = []
    for line in markdown.splitlines():
        if not line.strip():
            continue
        hashes = len(line) - len(line.lstrip("#"))
        kind = f"h{hashes}" if 1 <= hashes <= 3 and line[hashes : hashes + 1] == " " else "p"
        text = line[hashes + 1 :] if kind != "p" else line
        elements.append({"id": f"temp:C:{next_id('x')}", "type": kind, "text": text})
    return elements


def _element_markdown(element: dict[str, str]) -> str:
    kind = element["type"]
    return f"{'#' * int(kind[1])} {element['text']}" if kind in HEADERS else element["text"]


def _section_end(canvas: list[dict[str, str]], at: int) -> int:
    """Where the section at `at` ends: the next heading of its level or higher (a paragraph: itself)."""
    kind = canvas[at]["type"]
    if kind not in HEADERS:
        return at + 1
    level = int(kind[1])
    for index in range(at + 1, len(canvas)):
        other = canvas[index]["type"]
        if other in HEADERS and int(other[1]) <= level:
            return index
    return len(canvas)


def _user(user_id: str, team_id: str, real_name: str | None) -> dict[str, Any]:
    name = real_name or f"User {user_id}"
    return {
        "id": user_id,
        "team_id": team_id,
        "name": user_id.lower(),
        "real_name": name,
        "deleted": False,
        "is_bot": False,
        "is_app_user": False,
        "is_admin": False,
        "is_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "tz": "UTC",
        "tz_label": "UTC",
        "tz_offset": 0,
        "profile": {
            "real_name": name,
            "display_name": name,
            "team": team_id,
            "image_72": f"https://example.slack.com/avatars/{user_id}.png",
        },
    }


def _visible(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = {key: value for key, value in message.items() if not key.startswith("_")}
    if not with_metadata:
        shown.pop("metadata", None)
    return shown


def _between(
    messages: list[dict[str, Any]], oldest: Any, latest: Any, inclusive: bool
) -> list[dict[str, Any]]:
    low = _ts_key(oldest) if oldest not in (None, "") else None
    high = _ts_key(latest) if latest not in (None, "") else None

    def keep(message: dict[str, Any]) -> bool:
        ts = _ts_key(message["ts"])
        above = low is None or ts > low or (inclusive and ts == low)
        below = high is None or ts < high or (inclusive and ts == high)
        return above and below

    return [message for message in messages if keep(message)]


def _page(messages: list[dict[str, Any]], params: Params) -> tuple[list[dict[str, Any]], str]:
    limit = int(params.get("limit") or 100)
    start = int(params.get("cursor") or 0)
    end = start + limit
    return messages[start:end], str(end) if end < len(messages) else ""
