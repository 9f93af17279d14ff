"""Content blobs: deduplicated by hash, compressed (see compression.py)."""

from __future__ import annotations

import hashlib
import sqlite3

from monitor.errors import NotFound
from monitor.storage.compression import pack, unpack


class BlobQueries:
    conn: sqlite3.Connection

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
