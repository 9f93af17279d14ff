"""The database schema, as sqlite-utils migrations (additive, applied in order)."""

from __future__ import annotations

import sqlite3

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("article-monitor")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,          -- canonical URL, the article's key
            host TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',    -- title at the latest version
            added_at INTEGER NOT NULL,         -- epoch ms
            state TEXT NOT NULL DEFAULT 'active',  -- active | removed | stopped
            latest_ts INTEGER,                 -- key of the latest version
            last_change_ts INTEGER,            -- latest version with a content change
            versions_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE blobs (                   -- deduplicated compressed content (compress.py)
            hash TEXT PRIMARY KEY,             -- sha256 (first 128 bits, hex) of the content
            size INTEGER NOT NULL,             -- uncompressed size
            data BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE versions (
            article_id INTEGER NOT NULL REFERENCES articles(id),
            ts INTEGER NOT NULL,               -- first seen, epoch ms: the version's key
            title TEXT NOT NULL,
            pudate TEXT NOT NULL DEFAULT '',   -- the page's own last-modified time
            fingerprint TEXT,                  -- canonical text hash; NULL when removed
            article_blob TEXT REFERENCES blobs(hash),   -- the block model (JSON)
            snapshot_blob TEXT REFERENCES blobs(hash),  -- exact snapshot file text
            raw_blob TEXT REFERENCES blobs(hash),       -- raw fetched HTML
            source TEXT NOT NULL,              -- import | fetch
            PRIMARY KEY (article_id, ts)
        ) WITHOUT ROWID;
        CREATE TABLE changes (                 -- computed when a version is recorded
            article_id INTEGER NOT NULL,
            to_ts INTEGER NOT NULL,
            from_ts INTEGER,                   -- NULL for an article's first version
            kinds TEXT NOT NULL,               -- JSON list of change kinds
            chars_added INTEGER NOT NULL DEFAULT 0,
            chars_removed INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (article_id, to_ts),
            FOREIGN KEY (article_id, to_ts) REFERENCES versions(article_id, ts)
        ) WITHOUT ROWID;
        CREATE TABLE observations (            -- sightings that were not new versions
            article_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            outcome TEXT NOT NULL,             -- duplicate | unchanged | ...
            version_ts INTEGER,                -- the version it matched
            snapshot_blob TEXT,                -- imported file text, kept for export
            PRIMARY KEY (article_id, ts)
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m002_live_checks(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN etag TEXT;
        ALTER TABLE articles ADD COLUMN last_modified TEXT;
        ALTER TABLE articles ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;  -- consecutive
        ALTER TABLE articles ADD COLUMN last_error TEXT;
        ALTER TABLE articles ADD COLUMN missing_count INTEGER NOT NULL DEFAULT 0;  -- 404s in a row
        ALTER TABLE articles ADD COLUMN suspect_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE articles ADD COLUMN last_check_at INTEGER;
        ALTER TABLE articles ADD COLUMN next_check_at INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX articles_due ON articles (next_check_at) WHERE state != 'stopped';
        """
    )


@migrations()
def m003_outbox(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE alerts (                  -- written with the version that caused it
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            created_at INTEGER NOT NULL,       -- epoch ms
            event TEXT NOT NULL,               -- change | removed | restored | failing | recovered
            version_ts INTEGER,
            kinds TEXT NOT NULL,               -- JSON list
            subject TEXT NOT NULL,
            markdown TEXT NOT NULL,            -- body for chat targets
            html TEXT NOT NULL                 -- body for email
        );
        CREATE TABLE deliveries (              -- one per alert and notification target
            alert_id INTEGER NOT NULL REFERENCES alerts(id),
            target TEXT NOT NULL,              -- hash of the target URL (URLs carry secrets)
            state TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            sent_at INTEGER,
            PRIMARY KEY (alert_id, target)
        ) WITHOUT ROWID;
        CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
        CREATE TABLE daemon (                  -- the running daemon's heartbeat
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            heartbeat_at INTEGER NOT NULL,
            last_tick_at INTEGER,
            tick_seconds REAL NOT NULL,
            state TEXT NOT NULL               -- running | stopped
        );
        """
    )


@migrations()
def m004_claims(db: sqlite_utils.Database) -> None:
    # A daemon's claim on an article being checked; cleared when the check is recorded
    # and, after a crash, when the next daemon starts.
    db.execute("ALTER TABLE articles ADD COLUMN claimed_until INTEGER")


@migrations()
def m005_page_digest(db: sqlite_utils.Database) -> None:
    # Hash of the part of the last page that extraction reads: equal next time means
    # unchanged without parsing (see monitor.extraction.table.page_digest).
    db.execute("ALTER TABLE articles ADD COLUMN page_digest TEXT")


@migrations()
def m006_leases(db: sqlite_utils.Database) -> None:
    # Claims are leases with a fencing token: `claim` counts the claims ever taken on a
    # row, and a result is written only while the token it was claimed with is current.
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN claim INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE articles ADD COLUMN claimed_by TEXT;          -- "pid@host", for messages
        ALTER TABLE deliveries ADD COLUMN claim INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE deliveries ADD COLUMN claimed_until INTEGER;  -- epoch ms; NULL: free
        ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
        ALTER TABLE deliveries ADD COLUMN batch_key TEXT;         -- a digest's fixed key
        """
    )


@migrations()
def m007_lease_indexes(db: sqlite_utils.Database) -> None:
    # Who holds live leases is asked every heartbeat and before every claim: only the
    # few claimed rows are indexed.
    db.executescript(
        """
        CREATE INDEX articles_claimed ON articles (claimed_until) WHERE claimed_until IS NOT NULL;
        CREATE INDEX deliveries_claimed ON deliveries (claimed_until)
            WHERE claimed_until IS NOT NULL;
        """
    )


@migrations()
def m008_watch(db: sqlite_utils.Database) -> None:
    # Whether the user wants the article checked, apart from `state` (what the page
    # did): a paused article keeps its schedule and resumes it; an unwatched one keeps
    # its history. Checks and claims take only 'watching' rows.
    # Values: watching | paused | unwatched.
    db.execute("ALTER TABLE articles ADD COLUMN watch TEXT NOT NULL DEFAULT 'watching'")


@migrations()
def m009_due_index_of_watched(db: sqlite_utils.Database) -> None:
    # A paused article keeps its past next_check_at: with the old index every claim
    # stepped over all of them (measured: 10 ms per claim with 50,000 paused).
    db.executescript(
        """
        DROP INDEX articles_due;
        CREATE INDEX articles_due ON articles (next_check_at)
            WHERE state != 'stopped' AND watch = 'watching';
        """
    )


@migrations()
def m010_article_ids(db: sqlite_utils.Database) -> None:
    # The highest article id ever given: ids are never reused, so a purged article's
    # id cannot pass to the next one added (a check of the old one still in flight
    # would match its id and claim token; an old `monitor diff ID` would name it).
    db.executescript(
        """
        CREATE TABLE article_ids (high INTEGER NOT NULL);
        INSERT INTO article_ids SELECT coalesce(max(id), 0) FROM articles;
        """
    )


def migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations inside the caller's write transaction."""
    migrations.apply(sqlite_utils.Database(conn))
