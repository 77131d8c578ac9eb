"""A fake Slack Socket Mode endpoint on loopback: a real WebSocket server speaking Slack's envelopes.

Point the fake Web API's ``apps.connections.open`` at :attr:`FakeSocketMode.url`
(``FakeSlack.socket_mode_url``) and a Socket Mode client connects here. Like Slack, the server greets
each connection with a ``hello``, pushes envelopes (``send_envelope``), and records the client's
acknowledgements (``wait_ack``). slack_sdk's built-in client speaks plain ``ws://`` to any port other
than 443, so no TLS is involved.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

APP_ID = "A1"

Payload = dict[str, Any]


class FakeSocketMode:
    """A fake Socket Mode WebSocket server on 127.0.0.1 (a free port), serving in a daemon thread."""

    def __init__(self, app_id: str = APP_ID, *, close_timeout: float = 2.0) -> None:
        self.app_id = app_id
        self.close_timeout = close_timeout
        self.paths: list[str] = []  # the request path of every connection, in order
        self.received: list[Payload | str] = []  # every message a client sent, acks included
        self.errors: list[str] = []
        self._cond = threading.Condition()
        self._opened: list[ServerConnection] = []  # every connection greeted with hello, oldest first
        self._open: list[ServerConnection] = []  # those still open
        self._acks: dict[str, Payload] = {}
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeSocketMode:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._server = serve(
            self._handle,
            "127.0.0.1",
            0,
            compression=None,  # Slack's clients do not negotiate permessage-deflate
            close_timeout=self.close_timeout,
            logger=logging.getLogger("tests.fakes.socket_mode"),
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-socket-mode", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection and the listening socket."""
        server, self._server = self._server, None
        if server is None:
            return
        with self._cond:
            connections = list(self._open)
        for connection in connections:  # websockets < 14 leaves them open on shutdown
            connection.close()
        server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not started")
        return self._server.socket.getsockname()[1]

    @property
    def url(self) -> str:
        """What ``apps.connections.open`` should answer: ``ws://127.0.0.1:PORT/link``."""
        return f"ws://127.0.0.1:{self.port}/link"

    # ----------------------------------------------------------------- connections

    @property
    def connection_count(self) -> int:
        """How many connections were opened (and greeted) so far, closed ones included."""
        with self._cond:
            return len(self._opened)

    @property
    def open_count(self) -> int:
        """How many connections are open now."""
        with self._cond:
            return len(self._open)

    def wait_connected(self, timeout: float = 5.0, count: int = 1) -> None:
        """Block until ``count`` connections were greeted in all, the newest of them still open."""

        def ready() -> bool:
            return len(self._opened) >= count and self._opened[-1] in self._open

        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise AssertionError(
                    f"expected {count} Socket Mode connection(s) within {timeout}s; "
                    f"opened {len(self._opened)}, open {len(self._open)}"
                )

    def wait_open(self, count: int, timeout: float = 5.0) -> None:
        """Block until exactly ``count`` connections are open (0: the client has gone)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._open) == count, timeout):
                raise AssertionError(f"{len(self._open)} connection(s) open after {timeout}s, not {count}")

    # ----------------------------------------------------------------- messages

    def send_envelope(
        self, type: str, payload: Payload, accepts_response_payload: bool = True, **extra: Any
    ) -> str:
        """Push an envelope to the newest open connection; return its ``envelope_id``.

        ``events_api`` envelopes carry ``retry_attempt`` 0 and ``retry_reason`` "" unless ``extra``
        says otherwise, as Slack's do.
        """
        envelope_id = str(uuid.uuid4())
        envelope: Payload = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        envelope.update(extra)
        self.send(envelope)
        return envelope_id

    def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Tell the client to reconnect, as Slack does every few hours (or before a restart)."""
        self.send({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}})

    def send(self, message: Payload) -> None:
        """Send one JSON message to the newest open connection."""
        with self._cond:
            if not self._open:
                raise AssertionError("no Socket Mode connection is open")
            connection = self._open[-1]
        connection.send(json.dumps(message))

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Payload:
        """Block until the client acknowledged ``envelope_id``; return its reply."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(
                    f"no ack for envelope {envelope_id} within {timeout}s; "
                    f"acked: {sorted(self._acks)}; errors: {self.errors}"
                )
            return self._acks[envelope_id]

    @property
    def acks(self) -> dict[str, Payload]:
        """Every acknowledgement so far, by envelope id."""
        with self._cond:
            return dict(self._acks)

    # ----------------------------------------------------------------- the connection handler

    def _handle(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request is not None else ""
        try:
            with self._cond:
                hello = self._hello()
            connection.send(json.dumps(hello))
            with self._cond:
                self.paths.append(path)
                self._opened.append(connection)
                self._open.append(connection)
                self._cond.notify_all()
            for message in connection:
                self._receive(message)
        except ConnectionClosed:
            pass
        except Exception as exc:
            with self._cond:
                self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            with self._cond:
                if connection in self._open:
                    self._open.remove(connection)
                self._cond.notify_all()

    def _receive(self, message: str | bytes) -> None:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        with self._cond:
            if isinstance(data, dict):
                self.received.append(data)
                if "envelope_id" in data:
                    self._acks[str(data["envelope_id"])] = data
            else:
                self.received.append(text)
                self.errors.append(f"not a JSON object: {text[:200]!r}")
            self._cond.notify_all()

    def _hello(self) -> Payload:
        return {
            "type": "hello",
            "num_connections": len(self._open) + 1,
            "debug_info": {
                "host": "applink-fake",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
