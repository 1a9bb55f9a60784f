"""A webhook receiver on 127.0.0.1 for delivery tests: it answers each POST with the
next of the statuses it was given (the last one repeats), can hang or redirect, and
keeps every request it receives (so a test can prove one never arrived)."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=lambda: [204])
    location: str | None = None  # sent with every answer (a redirect, with a 3xx)
    answer: bytes = b"ok"
    hang: threading.Event | None = None  # set: the handler waits for it before answering
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        if self.hang is not None:
            self.hang.set()
        self._http.shutdown()
        self._http.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _receive(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                if receiver.hang is not None:
                    receiver.hang.wait(30)
                statuses = receiver.statuses
                status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            do_POST = do_GET = do_PUT = _receive  # noqa: N815 - http.server's names

            def log_message(self, *args: object) -> None:
                pass

        return Handler
