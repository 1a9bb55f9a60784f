"""A WebSub hub on 127.0.0.1 for tests: it takes subscription requests, verifies the
subscriber's intent at once (before answering, as hubs may), and pushes signed content."""

import hashlib
import hmac
import secrets
import threading
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode


@dataclass
class Subscription:
    callback: str
    topic: str
    secret: str
    lease_seconds: int
    verified: bool = False


class Hub:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.subscriptions: dict[str, Subscription] = {}  # by topic
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hub"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def publish(self, topic: str, body: bytes, *, signature: str | None = "sha256") -> int:
        """POST `body` to the topic's subscriber, signed (sha256 / sha1), unsigned (None)
        or with a forged signature ("forged"); the callback's HTTP status."""
        subscription = self.subscriptions[topic]
        headers = {"Content-Type": "application/atom+xml"}
        if signature == "forged":
            headers["X-Hub-Signature"] = "sha256=" + hmac.new(b"guess", body, "sha256").hexdigest()
        elif signature:
            digest = hmac.new(subscription.secret.encode(), body, getattr(hashlib, signature))
            headers["X-Hub-Signature"] = f"{signature}={digest.hexdigest()}"
        request = urllib.request.Request(subscription.callback, body, headers, method="POST")  # noqa: S310
        return _send(request)

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                hub.requests.append(form)
                subscription = Subscription(
                    form["hub.callback"],
                    form["hub.topic"],
                    form["hub.secret"],
                    int(form["hub.lease_seconds"]),
                )
                challenge = secrets.token_urlsafe(16)
                query = urlencode(
                    {
                        "hub.mode": "subscribe",
                        "hub.topic": subscription.topic,
                        "hub.challenge": challenge,
                        "hub.lease_seconds": subscription.lease_seconds,
                    }
                )
                try:
                    with urllib.request.urlopen(f"{subscription.callback}?{query}") as answer:  # noqa: S310
                        subscription.verified = answer.read().decode() == challenge
                except HTTPError:
                    subscription.verified = False
                hub.subscriptions[subscription.topic] = subscription
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _send(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310 - a loopback test URL
            return int(answer.status)
    except HTTPError as error:
        return error.code
