"""The SQLite database: its connection and transactions, and every query the monitor
runs, grouped by what they hold (one module each, mixed into `Store`).

Writers start with BEGIN IMMEDIATE so a CLI and the daemon never see "database is
locked"; readers run beside them thanks to WAL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.clock import seconds_ms
from monitor.errors import NotFound
from monitor.storage.articles import ArticleQueries
from monitor.storage.blobs import BlobQueries
from monitor.storage.checks import CheckQueries
from monitor.storage.daemon_state import DaemonStateQueries
from monitor.storage.outbox import OutboxQueries
from monitor.storage.versions import VersionQueries

BUSY_TIMEOUT_S = 60.0
PAGE_SIZE = 1024


def default_state_dir() -> Path:
    explicit = os.environ.get("MONITOR_STATE_DIR")
    if explicit:
        return Path(explicit)  # a path: any character, ':' included
    systemd = os.environ.get("STATE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])  # systemd lists several dirs, ':'-separated
    return Path("state")


class Store(
    ArticleQueries, VersionQueries, BlobQueries, CheckQueries, OutboxQueries, DaemonStateQueries
):
    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            conn = _open_reader(path)
        else:
            _create_private(path)
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {seconds_ms(BUSY_TIMEOUT_S)}")
        self.conn = conn
        if not readonly:
            # Content blobs are a few KB each and overflow pages waste half a page on
            # average: small pages keep that waste small (takes effect on a new file).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            with self.write():
                # Only writers migrate: readers skip importing sqlite-utils (CLI start-up).
                from monitor.storage.schema import migrate

                migrate(conn)

    @classmethod
    def open(cls, state_dir: Path, *, readonly: bool = False) -> Store:
        path = state_dir / "monitor.db"
        if readonly and not path.exists():
            raise NotFound(f"no database at {path}: import or add articles first")
        return cls(path, readonly=readonly)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction, taken up front (BEGIN IMMEDIATE); nested calls join it."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def savepoint(self, name: str) -> Iterator[None]:
        """A part of the current transaction that an error undoes alone."""
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        self.conn.execute(f"RELEASE {name}")


def _create_private(path: Path) -> None:
    """The state directory (0750) and database (0640) are not for every local user:
    they hold what was watched and notification history. SQLite gives its -wal and
    -shm files the database's own mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o640))


def _uri(path: Path, **params: str) -> str:
    """A file: URI for any path (`#`, `?`, `%`, `:` percent-escaped)."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{path.absolute().as_uri()}?{query}"


def _open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection. A reader of a WAL database needs its -shm file; with the
    daemon stopped none exists, and a reader that may not create files (a group
    member) cannot open it. With no -wal file there is no writer and nothing
    uncheckpointed, so the file is then read as it is (immutable)."""
    conn = _connect(_uri(path, mode="ro"))
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        if Path(f"{path}-wal").exists():
            raise
    return _connect(_uri(path, mode="ro", immutable="1"))


def _connect(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {seconds_ms(BUSY_TIMEOUT_S)}")
    return conn
