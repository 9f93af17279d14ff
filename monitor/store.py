"""The SQLite store: schema, migrations, and the queries the rest of the monitor uses.

Writers start with BEGIN IMMEDIATE so a CLI and the daemon never see "database is
locked"; readers run beside them thanks to WAL.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.article import Article
from monitor.compress import pack, unpack
from monitor.errors import NotFound, UrlError
from monitor.urls import host_of, normalize

BUSY_TIMEOUT_S = 60.0
PAGE_SIZE = 1024
MODEL_CACHE_SIZE = 64  # parsed versions kept per open store


@dataclass(frozen=True)
class ArticleRow:
    id: int
    url: str
    title: str
    state: str
    versions_count: int
    latest_ts: int | None
    last_change_ts: int | None


@dataclass(frozen=True)
class VersionRow:
    article_id: int
    ts: int
    title: str
    pudate: str
    fingerprint: str | None
    article_blob: str | None
    snapshot_blob: str | None
    source: str
    kinds: list[str]
    chars_added: int
    chars_removed: int
    from_ts: int | None


def default_state_dir() -> Path:
    import os

    for var in ("MONITOR_STATE_DIR", "STATE_DIRECTORY"):
        value = os.environ.get(var)
        if value:
            return Path(value.split(":")[0])
    return Path("state")


class Store:
    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        # Recording an edit reads the previous version several times (compare, diff,
        # alert); blobs never change, so their parsed models can be kept a while.
        self._models: OrderedDict[tuple[str, int], Article] = OrderedDict()
        if readonly:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self.conn = conn
        if not readonly:
            # Content blobs are a few KB each and overflow pages waste half a page on
            # average: small pages keep that waste small (takes effect on a new file).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            with self.write():
                # Only writers migrate: readers skip importing sqlite-utils (CLI start-up).
                from monitor.schema import migrate

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
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (BEGIN IMMEDIATE)."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- blobs ------------------------------------------------------------------
    def put_blob(self, data: bytes) -> str:
        # 128 bits: collision-free for any archive, and half the bytes of a full hash
        # in every row that refers to content.
        digest = hashlib.sha256(data).hexdigest()[:32]
        if self.conn.execute("SELECT 1 FROM blobs WHERE hash = ?", (digest,)).fetchone() is None:
            self.conn.execute(
                "INSERT INTO blobs (hash, size, data) VALUES (?, ?, ?)",
                (digest, len(data), pack(data)),
            )
        return digest

    def get_blob(self, digest: str) -> bytes:
        row = self.conn.execute("SELECT data FROM blobs WHERE hash = ?", (digest,)).fetchone()
        if row is None:
            raise NotFound(f"content {digest[:12]} is missing from the database")
        return unpack(row["data"])

    def load_article(self, version: VersionRow) -> Article:
        blob = version.article_blob or version.snapshot_blob
        if blob is None:
            raise NotFound(f"version {version.ts} has no article text (removed)")
        key = (blob, version.article_id)  # a snapshot's model depends on its article's URL
        model = self._models.get(key)
        if model is None:
            model = self._parse_model(version)
            self._models[key] = model
            if len(self._models) > MODEL_CACHE_SIZE:
                self._models.popitem(last=False)
        else:
            self._models.move_to_end(key)
        return model

    def _parse_model(self, version: VersionRow) -> Article:
        if version.article_blob is not None:
            return Article.from_json(self.get_blob(version.article_blob).decode("utf-8"))
        # Imported versions keep only their file: the model is read back from it.
        from monitor.extract.feed import article_from_snapshot
        from monitor.snapshot import parse

        assert version.snapshot_blob is not None
        snap = parse(self.get_blob(version.snapshot_blob).decode("utf-8"))
        return article_from_snapshot(snap, self.article_url(version.article_id))

    def article_url(self, article_id: int) -> str:
        row = self.conn.execute("SELECT url FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise NotFound(f"no article {article_id}")
        return str(row[0])

    # -- articles ---------------------------------------------------------------
    def ensure_article(self, url: str, now_ms: int, title: str = "") -> tuple[int, bool]:
        """Return (article id, created?) for a canonical URL."""
        row = self.conn.execute("SELECT id FROM articles WHERE url = ?", (url,)).fetchone()
        if row is not None:
            return int(row["id"]), False
        cur = self.conn.execute(
            "INSERT INTO articles (url, host, title, added_at) VALUES (?, ?, ?, ?)",
            (url, host_of(url), title, now_ms),
        )
        return int(cur.lastrowid or 0), True

    def resolve(self, ref: str) -> ArticleRow:
        """An article by id or by any variant of its URL."""
        ref = ref.strip()
        if ref.isdigit():
            row = self.conn.execute("SELECT * FROM articles WHERE id = ?", (int(ref),)).fetchone()
        else:
            try:
                url = normalize(ref)
            except UrlError as exc:
                raise NotFound(f"no article {ref!r}: {exc}") from exc
            row = self.conn.execute("SELECT * FROM articles WHERE url = ?", (url,)).fetchone()
        if row is None:
            raise NotFound(f"no article {ref!r}")
        return _article_row(row)

    def articles(self) -> Iterator[ArticleRow]:
        for row in self.conn.execute("SELECT * FROM articles ORDER BY id"):
            yield _article_row(row)

    # -- versions ---------------------------------------------------------------
    def versions(self, article_id: int) -> list[VersionRow]:
        rows = self.conn.execute(
            _VERSION_SELECT + " WHERE v.article_id = ? ORDER BY v.ts", (article_id,)
        ).fetchall()
        return [_version_row(r) for r in rows]

    def version(self, article_id: int, ts: int) -> VersionRow:
        row = self.conn.execute(
            _VERSION_SELECT + " WHERE v.article_id = ? AND v.ts = ?", (article_id, ts)
        ).fetchone()
        if row is None:
            raise NotFound(f"article {article_id} has no version at {ts}")
        return _version_row(row)

    def latest_version(self, article_id: int, before: int | None = None) -> VersionRow | None:
        sql = _VERSION_SELECT + " WHERE v.article_id = ?"
        args: list[Any] = [article_id]
        if before is not None:
            sql += " AND v.ts < ?"
            args.append(before)
        row = self.conn.execute(sql + " ORDER BY v.ts DESC LIMIT 1", args).fetchone()
        return _version_row(row) if row is not None else None

    def seen(self, article_id: int, ts: int) -> bool:
        for table in ("versions", "observations"):
            row = self.conn.execute(
                f"SELECT 1 FROM {table} WHERE article_id = ? AND ts = ?", (article_id, ts)
            ).fetchone()
            if row is not None:
                return True
        return False

    def earlier_fingerprint_ts(self, article_id: int, fingerprint: str, before: int) -> int | None:
        row = self.conn.execute(
            "SELECT ts FROM versions WHERE article_id = ? AND fingerprint = ? AND ts < ? "
            "ORDER BY ts DESC LIMIT 1",
            (article_id, fingerprint, before),
        ).fetchone()
        return int(row["ts"]) if row is not None else None

    def insert_version_row(
        self,
        article_id: int,
        ts: int,
        article: Article | None,
        *,
        article_blob: str | None,
        snapshot_blob: str | None,
        raw_blob: str | None,
        source: str,
    ) -> None:
        self.conn.execute(
            "INSERT INTO versions (article_id, ts, title, pudate, fingerprint, article_blob, "
            "snapshot_blob, raw_blob, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article_id,
                ts,
                article.title if article else "",
                article.pudate if article else "",
                article.fingerprint() if article else None,
                article_blob,
                snapshot_blob,
                raw_blob,
                source,
            ),
        )

    def has_later_sighting(self, article_id: int, ts: int) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM versions WHERE article_id = ? AND ts > ? UNION ALL "
            "SELECT 1 FROM observations WHERE article_id = ? AND ts > ? AND outcome = 'duplicate' "
            "LIMIT 1",
            (article_id, ts, article_id, ts),
        ).fetchone()
        return row is not None

    def duplicate_observations(self, article_id: int) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT * FROM observations WHERE article_id = ? AND outcome = 'duplicate' "
            "AND snapshot_blob IS NOT NULL ORDER BY ts",
            (article_id,),
        ).fetchall()

    def clear_succession(self, article_id: int) -> None:
        for sql in (
            "DELETE FROM changes WHERE article_id = ?",
            "DELETE FROM versions WHERE article_id = ?",
            "DELETE FROM observations WHERE article_id = ? AND outcome = 'duplicate' "
            "AND snapshot_blob IS NOT NULL",
        ):
            self.conn.execute(sql, (article_id,))

    def set_change(
        self,
        article_id: int,
        to_ts: int,
        from_ts: int | None,
        kinds: list[str],
        added: int,
        removed: int,
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO changes (article_id, to_ts, from_ts, kinds, chars_added, "
            "chars_removed) VALUES (?, ?, ?, ?, ?, ?)",
            (article_id, to_ts, from_ts, json.dumps(kinds), added, removed),
        )

    def add_observation(
        self,
        article_id: int,
        ts: int,
        outcome: str,
        version_ts: int | None,
        snapshot_blob: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO observations (article_id, ts, outcome, version_ts, "
            "snapshot_blob) VALUES (?, ?, ?, ?, ?)",
            (article_id, ts, outcome, version_ts, snapshot_blob),
        )

    def refresh_article_summary(self, article_id: int) -> None:
        self.conn.execute(
            """
            UPDATE articles SET
              versions_count = (SELECT count(*) FROM versions WHERE article_id = :id),
              latest_ts = (SELECT max(ts) FROM versions WHERE article_id = :id),
              title = coalesce((SELECT title FROM versions WHERE article_id = :id
                                AND fingerprint IS NOT NULL ORDER BY ts DESC LIMIT 1), title),
              last_change_ts = (SELECT max(to_ts) FROM changes WHERE article_id = :id
                                AND kinds NOT IN ('["metadata"]', '["minor"]'))
            WHERE id = :id
            """,
            {"id": article_id},
        )


_VERSION_SELECT = (
    "SELECT v.*, c.kinds, c.chars_added, c.chars_removed, c.from_ts FROM versions v "
    "LEFT JOIN changes c ON c.article_id = v.article_id AND c.to_ts = v.ts"
)


def _article_row(row: sqlite3.Row) -> ArticleRow:
    return ArticleRow(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        state=row["state"],
        versions_count=row["versions_count"],
        latest_ts=row["latest_ts"],
        last_change_ts=row["last_change_ts"],
    )


def _version_row(row: sqlite3.Row) -> VersionRow:
    return VersionRow(
        article_id=row["article_id"],
        ts=row["ts"],
        title=row["title"],
        pudate=row["pudate"],
        fingerprint=row["fingerprint"],
        article_blob=row["article_blob"],
        snapshot_blob=row["snapshot_blob"],
        source=row["source"],
        kinds=json.loads(row["kinds"]) if row["kinds"] else [],
        chars_added=row["chars_added"] or 0,
        chars_removed=row["chars_removed"] or 0,
        from_ts=row["from_ts"],
    )
