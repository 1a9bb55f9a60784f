"""The content generation, pushed to each process: on PostgreSQL, a 304 needs no
database round trip.

Every content-changing transaction bumps `content_state.generation` and, in the same
transaction, sends NOTIFY with the new value; PostgreSQL delivers it only if and when
that transaction commits. Each process listens on a connection of its own, in a thread,
and keeps the highest value heard. Its own commits count at once (read-your-writes in
one process); another process's arrive in about a millisecond.

While the listener is not connected (starting, or after losing its connection, when
notices may have been missed) the generation is read from the database as before, and
on (re)connecting it is read once after LISTEN, so nothing committed in between is
missed. A read every REFRESH seconds is a safety net, not the mechanism. SQLite has no
notifications; there the read stays (a local file read, cheap).
"""

import os
import threading
import time
from typing import Any

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url

log = structlog.get_logger(__name__)

CHANNEL = "cms_content_generation"
LISTENER = "cms generation listener"  # its application_name, for operators
REFRESH = 5.0  # seconds between safety-net reads while listening
# Not heard from the database for this long (a read or a notice): the connection may be
# dead without a reset (a failover, a partition), so the generation is read per request.
QUIET_LIMIT = 2 * REFRESH + 2
# A silent peer is found out in seconds, not in Linux's quarter of an hour.
_KEEPALIVE: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 10_000,  # ms
}
_READ = "SELECT generation FROM content_state WHERE id = 1"


class GenerationWatcher:
    """The newest content generation this process knows of, kept by a listener thread."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.value: int | None = None
        self.live = False
        self.heard_at = 0.0  # time.monotonic() of the last read or notice
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._stopped = threading.Event()

    def current(self) -> int | None:
        """The generation, or None while not listening (then read it from the database)."""
        if self._pid != os.getpid():  # first use in this process (or in a forked worker)
            self._start()
        if not self.live or time.monotonic() - self.heard_at > QUIET_LIMIT:
            return None
        return self.value

    def saw(self, generation: int) -> None:
        """A generation this process committed or heard: never goes back."""
        with self._lock:
            if self.value is None or generation > self.value:
                self.value = generation

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid, self.live, self.value = os.getpid(), False, None
        threading.Thread(target=self._listen_forever, name="generation", daemon=True).start()

    def stop(self) -> None:
        """Stop listening (the database is going away): the thread ends at its next
        notice, timeout or lost connection, without trying again."""
        self._stopped.set()
        self.live = False

    def _listen_forever(self) -> None:
        pause = 0.5
        while not self._stopped.is_set():
            try:
                self._listen()
            except Exception:  # any loss: read from the database until listening again
                self.live = False
                if self._stopped.is_set():
                    return
                log.warning("generation_listener_lost", exc_info=True, retry_in=pause)
                self._stopped.wait(pause)
                pause = min(pause * 2, 30.0)

    def _listen(self) -> None:
        with psycopg.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=5,
            application_name=LISTENER,
            **_KEEPALIVE,
        ) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self._read(connection)  # after LISTEN: no commit falls between the two
            self.live = True
            while not self._stopped.is_set():
                for notice in connection.notifies(timeout=REFRESH):
                    self.saw(int(notice.payload))
                    self.heard_at = time.monotonic()
                self._read(connection)

    def _read(self, connection: Any) -> None:
        row = connection.execute(_READ).fetchone()
        if row is not None:
            self.saw(int(row[0]))
        self.heard_at = time.monotonic()


_watchers: dict[str, GenerationWatcher] = {}


def watcher_for(database_url: str) -> GenerationWatcher | None:
    """One watcher per database per process; None where the database cannot notify."""
    if not database_url.startswith("postgresql"):
        return None
    if database_url not in _watchers:
        _watchers[database_url] = GenerationWatcher(database_url)
    return _watchers[database_url]


def stop_watching(database_url: str) -> None:
    """Stop this process's listener on a database about to be dropped."""
    watcher = _watchers.pop(database_url, None)
    if watcher is not None:
        watcher.stop()


# Sent in the bumping transaction: delivered to listeners only if it commits.
NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :generation)")
