"""Connection reuse for copbot's Web API calls: one pool of kept-alive connections per process.

slack-sdk's sync WebClient sends each request with urllib's `urlopen`, which asks for `Connection: close`:
every call, `views.open` within its trigger's 3 s and every post of the outbox, pays a TCP and (against
slack.com) a TLS handshake first. `send` takes the request slack-sdk built and sends it through a shared,
thread-safe httpx connection pool whose connections stay open, and answers as urllib does: slack-sdk's
dict for a 2xx, urllib's `HTTPError` otherwise, urllib's exceptions when the connection fails. So request
building, retry handlers, rate limits, `SlackResponse` and `SlackApiError` stay slack-sdk's, and the
outbox reads a lost connection or a timeout as before (a post becomes uncertain and is reconciled, never
sent blindly). A file's upload to the URL `files.getUploadURLExternal` gives stays on urllib: slack-sdk
sends it with `urlopen` directly, not through this hook.

Retries: only of opening a connection (nothing was sent). A connection the server closed while idle is
seen when it leaves the pool (httpcore finds its socket readable) and replaced before anything is written;
and idle connections are dropped after `KEEPALIVE_SECONDS`, before the idle timeouts of load balancers
and NATs, so the server rarely closes first. A request whose connection fails after it was written is
never resent here: it may have reached Slack.
"""

from __future__ import annotations

import http.client
import io
import os
import socket
import ssl
import threading
import urllib.error
import urllib.request
from ssl import SSLContext
from typing import Any

import httpx

KEEPALIVE_SECONDS = 30.0  # under the 60 s idle timeout common in front of servers: we close first
_LIMITS = httpx.Limits(
    max_connections=None,  # as urllib: a thread never waits for another's connection
    max_keepalive_connections=32,
    keepalive_expiry=KEEPALIVE_SECONDS,
)

_lock = threading.Lock()
# Transports, not httpx.Client: a client would keep cookies (shared by every workspace's requests) and add
# headers of its own; a transport is only the connection pool, and the wire stays slack-sdk's.
_pools: dict[SSLContext | None, httpx.HTTPTransport] = {}
_pid = os.getpid()


def send(request: urllib.request.Request, *, timeout: float, context: SSLContext | None) -> dict[str, Any]:
    """Send slack-sdk's request on a kept-alive connection; answer or fail as `urlopen` would."""
    outgoing = httpx.Request(
        request.get_method(),
        request.full_url,
        content=request.data,  # type: ignore[arg-type]  # slack-sdk builds bytes (or None)
        headers={key: str(value) for key, value in request.header_items()},
        extensions={"timeout": httpx.Timeout(timeout).as_dict()},  # connect, each read and write: as urllib
    )
    try:
        response = _pool(context).handle_request(outgoing)
        try:
            content = response.read()
        finally:
            response.close()  # back to the pool
    except httpx.TransportError as error:
        raise _as_urllib_error(error) from error
    headers = _message(response.headers)
    if not 200 <= response.status_code < 300:  # urllib raises these; slack-sdk reads the answer from it
        url, status, answer = request.full_url, response.status_code, io.BytesIO(content)
        raise urllib.error.HTTPError(url, status, response.reason_phrase, headers, answer)
    body: str | bytes = content
    if headers.get_content_type() != "application/gzip":  # a gzip file (admin.analytics.getFile) stays bytes
        body = content.decode(headers.get_content_charset() or "utf-8")
    return {"status": response.status_code, "headers": headers, "body": body}


def _pool(context: SSLContext | None) -> httpx.HTTPTransport:
    global _pid
    with _lock:
        if _pid != os.getpid():  # a forked child must not share its parent's sockets
            _pools.clear()
            _pid = os.getpid()
        pool = _pools.get(context)
        if pool is None:
            pool = _pools[context] = httpx.HTTPTransport(
                # urllib's default context trusts the system's CAs (httpx's own would trust certifi's)
                verify=context or ssl.create_default_context(),
                limits=_LIMITS,
                retries=1,  # connecting only: httpcore retries a connect that failed, never a sent request
                # httpcore writes a request's head and body apart: with Nagle's algorithm the body may wait
                # for the server's delayed ACK of the head (up to 40 ms). urllib3 sets this by default too.
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            )
        return pool


def _message(headers: httpx.Headers) -> http.client.HTTPMessage:
    """The headers as urllib hands them over (slack-sdk reads the charset and content type from them)."""
    message = http.client.HTTPMessage()
    for key, value in headers.multi_items():
        message[key] = value
    return message


def _as_urllib_error(error: httpx.TransportError) -> Exception:
    """The exception urllib raises for the same failure, so callers classify it as before."""
    reason = _os_error(error)
    if isinstance(error, httpx.ReadTimeout):  # waiting for the answer: urllib lets socket.timeout through
        return TimeoutError("timed out")
    if isinstance(error, httpx.RemoteProtocolError):  # closed before (or in the middle of) the answer
        return http.client.RemoteDisconnected(str(error) or "Remote end closed connection without response")
    if isinstance(error, httpx.ReadError):
        return reason or ConnectionResetError(str(error))
    if isinstance(error, httpx.TimeoutException):  # connecting or writing: urllib wraps these in URLError
        return urllib.error.URLError(TimeoutError("timed out"))
    return urllib.error.URLError(reason or str(error))


def _os_error(error: BaseException) -> OSError | None:
    """The socket error under httpx's and httpcore's wrappers, if any."""
    cause = error.__cause__ or error.__context__
    for _ in range(8):  # a short chain: httpx wraps httpcore, which wraps the socket's error
        if cause is None or isinstance(cause, OSError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None
