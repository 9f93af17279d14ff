"""A plain-HTTP site on 127.0.0.1 watched directly (no mirror rule): its pages and
settings, and reading what the commands stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from support.server import PageServer, Route

SETTINGS = (
    "[fetch]\nper_host_delay_s = 0\nretries = 0\ntimeout_s = 20\n"
    "allow_private_addresses = true\nconcurrency = 10\nper_host_concurrency = 10\n"
    "[check]\nparse_workers = 0\n"
)


def article_page(title: str, *paragraphs: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"{body}</article></body></html>"
    ).encode()


def serve(site: PageServer, path: str, title: str, *paragraphs: str) -> str:
    """Serve an article at `path`; its URL."""
    site.routes[path] = Route(body=article_page(title, *paragraphs))
    return site.base + path.lstrip("/")


def db_rows(state_dir: Path, sql: str, *args: object) -> list[Any]:
    """Rows straight from the SQLite file the commands wrote."""
    conn = sqlite3.connect(state_dir / "monitor.db")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()
