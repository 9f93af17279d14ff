from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from monitor.config import Config, DaemonSettings, FetchSettings
from monitor.runner.daemon import claim_due, spread_overdue
from monitor.runner.logs import configure_logging
from monitor.storage.database import Store

NOW = 1_700_000_000_000


def _store_with(tmp_path: Path, count: int, next_check_at: int) -> Store:
    store = Store.open(tmp_path / "state")
    with store.write():
        store.conn.executemany(
            "INSERT INTO articles (url, host, added_at, next_check_at) VALUES (?, 'h', 0, ?)",
            [(f"https://h.example/{i}", next_check_at - i) for i in range(count)],
        )
    return store


def test_claim_takes_the_most_overdue_first_and_leases_them(tmp_path: Path) -> None:
    store = _store_with(tmp_path, 50, NOW - 1_000)
    config = Config(
        fetch=FetchSettings(per_host_concurrency=100),
        daemon=DaemonSettings(lease_seconds=60.0),
    )
    claimed = claim_due(store, config, NOW, 10)
    assert len(claimed) == 10
    # Article i is due at NOW - 1000 - i: the largest i are the most overdue.
    assert sorted(t.url for t in claimed) == sorted(f"https://h.example/{i}" for i in range(40, 50))
    leased = store.conn.execute(
        "SELECT count(*) FROM articles WHERE claimed_until = ?", (NOW + 60_000,)
    ).fetchone()[0]
    assert leased == 10
    assert len(claim_due(store, config, NOW, 100)) == 40  # the rest, not the leased
    assert claim_due(store, config, NOW, 100) == []


def test_a_claim_leaves_each_host_only_its_own_slots(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    with store.write():
        for i in range(12):  # the slow host's articles are the most overdue
            store.ensure_article(f"https://slow.example/{i}", 0)
        for i in range(20):
            store.ensure_article(f"https://fast.example/{i}", 0)
        store.conn.execute("UPDATE articles SET next_check_at = ? - id", (NOW,))
    config = Config(fetch=FetchSettings(per_host_concurrency=2))
    first = claim_due(store, config, NOW, 10)
    hosts = [t.host for t in first]
    assert hosts.count("slow.example") == 2 and hosts.count("fast.example") == 2
    # With the slow host's two checks still in flight, later claims skip it entirely.
    busy = {"slow.example": 2, "fast.example": 0}
    later = claim_due(store, config, NOW, 8, busy)
    assert [t.host for t in later] == ["fast.example"] * 2


def test_every_claim_takes_a_new_fencing_token(tmp_path: Path) -> None:
    store = _store_with(tmp_path, 1, NOW - 1_000)
    config = Config(daemon=DaemonSettings(lease_seconds=61.0))
    (first,) = claim_due(store, config, NOW, 1)
    assert claim_due(store, config, NOW + 1_000, 1) == []  # leased: nobody else gets it
    (second,) = claim_due(store, config, NOW + 62_000, 1)  # the lease ran out
    assert second.claim == first.claim + 1
    assert store.holds_claim(second.id, second.claim)
    assert not store.holds_claim(first.id, first.claim)


def test_overdue_articles_are_spread_after_a_restart(tmp_path: Path) -> None:
    store = _store_with(tmp_path, 2_000, NOW - 3_600_000)
    config = Config(daemon=DaemonSettings(tick_seconds=30, batch_size=200, spread_seconds=600))
    assert spread_overdue(store, config, NOW) == 2_000
    times = [r[0] for r in store.conn.execute("SELECT next_check_at FROM articles")]
    assert min(times) >= NOW and max(times) < NOW + 300_000  # 2000 * 30 / 200 s = 300 s
    due_now = sum(1 for t in times if t <= NOW + 30_000)
    assert due_now < 400  # about a tenth, not all of them in the first tick


def test_json_logs_are_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "info")
    logging.getLogger("monitor.test").info("checked %d articles", 3)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["message"] == "checked 3 articles" and entry["level"] == "info"
    configure_logging("text", "warning")
