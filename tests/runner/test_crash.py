"""Fault suite: kill -9 at random moments, targets that are down, concurrent CLI use,
and a disk that fills up. Nothing may be lost or corrupted."""

from __future__ import annotations

import random
import resource
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.snapshot import Snapshot, read_file
from support.cli import run
from support.corpus import BIDEN_OLD
from support.daemon import DaemonProcess, query, wait_for, write_config
from support.newsroom import Newsroom
from support.receivers import Webhook, free_port, webhook
from support.server import page_server

pytestmark = pytest.mark.slow
ARTICLES = 5
KILLS = 50


@pytest.fixture
def newsroom(tmp_path: Path) -> Iterator[tuple[Newsroom, Path]]:
    work = tmp_path / "work"
    work.mkdir()
    with page_server() as server:
        yield Newsroom(server, work, ARTICLES, slug="crash"), work


def _daemon(work: Path, newsroom: Newsroom, targets: list[str], **settings: str) -> DaemonProcess:
    config = write_config(work / "monitor.toml", targets, log_level="info")
    if settings:
        text = config.read_text()
        for key, value in settings.items():
            text = text.replace(f"{key} = ", f"{key} = {value}\n# was: {key} = ", 1)
        config.write_text(text)
    env = {"MONITOR_MIRRORS": f"https://cn.nytimes.com/={newsroom.server.base}"}
    return DaemonProcess(work, work / "state", config, env)


def _integrity(state: Path) -> str:
    conn = sqlite3.connect(state / "monitor.db", timeout=30)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _starts(state: Path) -> object:
    """When the last daemon started (its heartbeat row is written once it is up)."""
    return query(state, "SELECT started_at FROM daemon")


def _history_markers(state: Path, url: str) -> list[str]:
    """The paragraph each version added, read back from the stored block models."""
    from monitor.history.models import load_article as stored_model
    from monitor.storage.database import Store

    store = Store.open(state, readonly=True)
    try:
        article = store.resolve(url)
        markers = []
        for version in store.versions(article.id)[1:]:
            markers.append(stored_model(store, version).body[-1].text)
        return markers
    finally:
        store.close()


def _settle(newsroom: Newsroom, work: Path, hook: Webhook, daemon: DaemonProcess) -> None:
    state = work / "state"
    started = _starts(state)
    restarted = DaemonProcess(work, state, daemon.config, daemon.env).start()
    try:
        wait_for(lambda: _starts(state) != started, "the last daemon up", 60)
        wait_for(lambda: newsroom.all_recorded(), "every edit recorded", 60)
        wait_for(
            lambda: not query(state, "SELECT 1 FROM deliveries WHERE state != 'sent'"),
            "every delivery sent",
            60,
        )
        assert restarted.terminate() == 0
    finally:
        restarted.stop_quietly()


def test_kill_9_at_random_moments_loses_nothing(newsroom: tuple[Newsroom, Path]) -> None:
    room, work = newsroom
    state = work / "state"
    rng = random.Random(20261127)
    with webhook() as hook:
        daemon = _daemon(work, room, [hook.url])
        for trial in range(KILLS):
            for i in rng.sample(range(ARTICLES), 2):
                if room.recorded(i) == 1 + len(room.edits[i]):
                    room.edit(i)  # only once the previous edit is in: each edit is observable
            started = _starts(state)
            daemon.start()
            # The kill lands at a random moment of the daemon's work, not of its start-up,
            # however slow the machine: wait for it to be up first.
            wait_for(lambda s=started: _starts(state) != s, f"daemon up (trial {trial})", 60)
            if trial % 2:
                # Every other run gets as far as recording the edits made so far, so
                # the edits go on however slow the machine; the kill then hits delivery
                # or the checks after it.
                wait_for(lambda: room.all_recorded(), f"edits in (trial {trial})", 60)
            time.sleep(rng.uniform(0.0, 0.8))  # the fault itself: a kill at a random moment
            daemon.kill9()
            if (state / "monitor.db").exists():
                assert _integrity(state) == "ok", f"trial {trial}"
        _settle(room, work, hook, daemon)
        posts = [(p["title"], p["message"]) for p in hook.posts]
        once_each = hook.once_each()
    made = sum(len(e) for e in room.edits)
    assert made >= 20
    for i in range(ARTICLES):
        assert _history_markers(state, room.url(i)) == room.edits[i]  # each edit exactly once
    assert query(state, "SELECT count(*) FROM alerts") == [(made,)]
    # Every alert arrived exactly once for a receiver that drops keys it has seen. A
    # kill in the instant between the receiver's 200 and the commit of "sent" sends
    # the one message in flight again, under the same key: at most one per kill.
    assert len(once_each) == made == len(set(posts))
    assert len(posts) - made <= KILLS


def test_target_refused_then_failing_then_slow_then_up(newsroom: tuple[Newsroom, Path]) -> None:
    room, work = newsroom
    state = work / "state"
    port = free_port()
    daemon = _daemon(
        work, room, [f"json://127.0.0.1:{port}/hook"], send_timeout_seconds="1.0"
    ).start()
    try:
        wait_for(
            lambda: len(query(state, "SELECT 1 FROM observations")) >= ARTICLES, "first checks"
        )
        room.edit(0)
        wait_for(lambda: room.recorded(0) == 2, "first edit")
        room.edit(0)
        wait_for(lambda: room.recorded(0) == 3, "second edit while refused")
        wait_for(
            lambda: query(state, "SELECT 1 FROM deliveries WHERE attempts >= 2"),
            "deliveries retried against a refused connection",
        )
        with webhook(port) as hook:
            hook.fail_with = [500, 502, 503]
            hook.stall_first = 0
            wait_for(lambda: not hook.fail_with, "the 5xx phase")
            hook.stall_first = 2
            room.edit(1)
            wait_for(lambda: hook.stall_first == 0, "the timeout phase")
            wait_for(lambda: len(hook.posts) == 3, "everything delivered")
            assert daemon.terminate() == 0
            posts = [p["message"] for p in hook.posts]
    finally:
        daemon.stop_quietly()
    assert room.edits[0][0] in posts[0] and room.edits[0][1] in posts[1]  # in order per article
    assert room.edits[1][0] in posts[2]
    assert query(state, "SELECT count(*) FROM deliveries WHERE state = 'sent'") == [(3,)]


def test_cli_beside_a_writing_daemon_never_sees_a_locked_database(
    newsroom: tuple[Newsroom, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    room, work = newsroom
    state = work / "state"
    monkeypatch.setenv("MONITOR_STATE_DIR", str(state))
    with webhook() as hook:
        daemon = _daemon(work, room, [hook.url]).start()
        try:
            wait_for(
                lambda: len(query(state, "SELECT 1 FROM observations")) >= ARTICLES,
                "the daemon checking",
            )
            cli = CliRunner()
            extra = work / "extra.md"
            snap, _ = read_file(BIDEN_OLD)
            for n in range(40):
                i = n % ARTICLES
                if room.recorded(i) == 1 + len(room.edits[i]):
                    room.edit(i)
                url = f"https://cn.nytimes.com/usa/20240701/cli-{n}/"
                extra.write_text(Snapshot(snap.ts + n, snap.title, url, snap.html).render())
                for args in (
                    ["list"],
                    ["history", room.url(n % ARTICLES)],
                    ["add", f"https://example.org/cli/{n}"],
                    ["import", str(extra)],
                    ["status", "--json"],
                ):
                    result = run(cli, *args)
                    assert "locked" not in result.output, (args, result.output)
                    assert result.exit_code == 0 or args[0] == "status", (args, result.output)
            assert daemon.terminate() == 0
        finally:
            daemon.stop_quietly()
    assert "locked" not in daemon.output()


def test_full_disk_is_a_clear_error_and_work_resumes(newsroom: tuple[Newsroom, Path]) -> None:
    room, work = newsroom
    state = work / "state"
    with webhook() as hook:
        daemon = _daemon(work, room, [hook.url]).start()
        try:
            wait_for(
                lambda: len(query(state, "SELECT 1 FROM observations")) >= ARTICLES, "first checks"
            )
            assert daemon.terminate() == 0
        finally:
            daemon.stop_quietly()
        conn = sqlite3.connect(state / "monitor.db")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # an empty WAL: every write grows it
        conn.close()
        limit = 40 * 1024  # the 32 KiB shared-memory file and a few small commits fit

        def small_disk() -> None:  # runs in the child: files may not grow past `limit`
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        cramped = DaemonProcess(work, state, daemon.config, daemon.env)
        cramped.popen_extra = {"preexec_fn": small_disk}
        room.edit(0)
        cramped.start()
        try:
            wait_for(lambda: "database write failed" in cramped.output(), "the full-disk error")
            cramped.terminate()
        finally:
            cramped.stop_quietly()
        assert _integrity(state) == "ok"
        # A file-size limit reads as an I/O error (EFBIG); a full disk as SQLITE_FULL.
        log_lines = [ln for ln in cramped.output().splitlines() if "write failed" in ln]
        assert "is the disk full?" in log_lines[0] and "Traceback" not in cramped.output()
        _settle(room, work, hook, daemon)  # space is back: the edit and its alert go through
        # The alert arrives. If the disk filled up right after the target accepted it,
        # the "sent" mark could not be written and it comes once more: never lost.
        assert len(hook.once_each()) == 1 and 1 <= len(hook.posts) <= 2
        assert room.edits[0][0] in hook.posts[0]["message"]
    assert _history_markers(state, room.url(0)) == room.edits[0]
