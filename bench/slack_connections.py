"""What a Web API call costs with a new connection each time and with a kept-alive one, over TLS.

    python bench/slack_connections.py [--calls 300]

The fake Slack is served over TLS on loopback (a throwaway self-signed certificate made with `openssl`),
as slack.com is, and the same `chat.postMessage` is made `--calls` times through slack-sdk's own
WebClient (urllib: a TCP connection and a TLS handshake per call) and through copbot's SlackClient (one
kept-alive connection, `copbot.slack.keepalive`). Printed per call: the calling thread's CPU (copbot's
cost), wall time on loopback (no network round trips: against slack.com each handshake adds one or two),
and the new connections the fake accepted.
"""

from __future__ import annotations

import argparse
import os
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from slack_sdk import WebClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from copbot.slack.client import SlackClient  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402


def tls_fake(folder: Path) -> FakeSlack:
    """A started fake Slack answering over TLS with a certificate the default client context trusts."""
    return serve_tls(FakeSlack().start(), folder)


def serve_tls(fake: FakeSlack, folder: Path) -> FakeSlack:
    """Make a started fake Slack answer over TLS, as slack.com does: a throwaway self-signed certificate
    (made with `openssl`) that this process and its children trust through `SSL_CERT_FILE`; its `url`
    and `base` then say https."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = fake._server
    assert server is not None
    server.socket = server_context.wrap_socket(server.socket, server_side=True)  # same descriptor, now TLS
    fake.scheme = "https"
    os.environ["SSL_CERT_FILE"] = str(cert)  # what OpenSSL's default verify paths (and so urllib) trust
    return fake


def per_call(client: WebClient, fake: FakeSlack, calls: int) -> tuple[float, float, float]:
    """Thread CPU ms, wall ms and new connections per call, after a warm-up call."""
    client.chat_postMessage(channel="C1", text="warm-up")
    accepted = fake.connections_accepted
    cpu, wall = time.thread_time(), time.perf_counter()
    for n in range(calls):
        client.chat_postMessage(channel="C1", text=f"post {n}")
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / calls, wall * 1000 / calls, (fake.connections_accepted - accepted) / calls


def main() -> None:
    """Print the cost per call of both clients."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        fake = tls_fake(Path(folder))
        try:
            url = fake.url
            # No `ssl=`, as copbot: urllib builds a default context per connection, the pool one for all.
            clients = {
                "slack-sdk WebClient (urllib)": WebClient(token="xoxb-bench", base_url=url),
                "copbot SlackClient (keep-alive)": SlackClient(token="xoxb-bench", base_url=url),
            }
            print(f"per chat.postMessage over TLS on loopback, {args.calls} calls each")
            for name, client in clients.items():
                cpu, wall, connections = per_call(client, fake, args.calls)
                line = f"CPU {cpu:6.3f} ms  wall {wall:6.3f} ms  {connections:4.2f} new connections"
                print(f"  {name:<32} {line}")
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
