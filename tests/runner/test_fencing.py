"""Leases and fencing tokens end to end: several checkers on one database, checkers
that stall past their leases, counters under concurrency, digests cut off by a kill.

Every checker is a real process (the daemon, `monitor check`) against real servers on
127.0.0.1; the test edits the pages and reads the database back."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from support.corpus import ROOT
from support.daemon import DEADLINE_S, DaemonProcess, query, wait_for, write_config
from support.newsroom import Newsroom
from support.receivers import webhook
from support.server import PageServer, Route, page_server

pytestmark = pytest.mark.slow
Settings = dict[str, dict[str, str]]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PageServer]:
    with page_server() as pages:
        yield pages


def _desk(server: PageServer, tmp_path: Path, count: int) -> Newsroom:
    work = tmp_path / "work"
    work.mkdir()
    return Newsroom(server, work, count, slug="fencing")


def _config(desk: Newsroom, targets: list[str], settings: Settings) -> Path:
    """write_config's fast test config with `settings` ({section: {key: TOML value}})
    put in: existing keys replaced, new ones added to their section."""
    path = write_config(desk.work / "monitor.toml", targets, log_level="info")
    wanted = {section: dict(values) for section, values in settings.items()}
    lines: list[str] = []
    section = ""

    def add_rest() -> None:
        lines.extend(f"{key} = {value}" for key, value in wanted.pop(section, {}).items())

    for line in path.read_text().splitlines():
        if line.startswith("["):
            add_rest()
            section = line.strip("[]")
            lines.append(line)
            continue
        key = line.split(" = ", 1)[0]
        lines.append(
            f"{key} = {wanted[section].pop(key)}" if key in wanted.get(section, {}) else line
        )
    add_rest()
    for name, values in wanted.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n")
    return path


def _command(desk: Newsroom, config: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "monitor",
        "--state-dir",
        str(desk.state),
        "--config",
        str(config),
        *args,
    ]


def _env(desk: Newsroom) -> dict[str, str]:
    return {**os.environ, **desk.env, "PYTHONPATH": str(ROOT)}


def _monitor(desk: Newsroom, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One `monitor` command as its own process; it must succeed."""
    done = subprocess.run(
        _command(desk, config, *args),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=desk.work,
        env=_env(desk),
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _started(desk: Newsroom, config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(desk, config, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=desk.work,
        env=_env(desk),
    )


def _daemon(desk: Newsroom, config: Path) -> DaemonProcess:
    return DaemonProcess(desk.work, desk.state, config, desk.env)


def _history_markers(state: Path, url: str) -> list[str]:
    """The paragraph each version after the first added, from the stored block models."""
    from monitor.history.models import load_article as stored_model
    from monitor.storage.database import Store

    store = Store.open(state, readonly=True)
    try:
        article = store.resolve(url)
        return [stored_model(store, v).body[-1].text for v in store.versions(article.id)[1:]]
    finally:
        store.close()


def _fingerprints(state: Path, article_id: int) -> list[str]:
    rows = query(
        state, "SELECT fingerprint FROM versions WHERE article_id = ? ORDER BY ts", article_id
    )
    return [str(r[0]) for r in rows]


def _change_kinds(state: Path) -> list[str]:
    return [
        kind for (kinds,) in query(state, "SELECT kinds FROM changes") for kind in json.loads(kinds)
    ]


def _alert_keys(state: Path) -> list[str]:
    """Each alert's message key as the outbox computes it for a single alert."""
    return [f"{i}.{c}" for i, c in query(state, "SELECT id, created_at FROM alerts ORDER BY id")]


def _everything_sent(state: Path) -> bool:
    return bool(query(state, "SELECT 1 FROM alerts")) and not query(
        state, "SELECT 1 FROM deliveries WHERE state != 'sent'"
    )


def _heartbeat(state: Path) -> int:
    rows = query(state, "SELECT heartbeat_at FROM daemon")
    return int(rows[0][0]) if rows else 0


def _now_ms() -> int:
    return int(time.time() * 1000)


class HeldRequest:
    """A route handler for the next request to a page: it says when that request has
    arrived, holds it until released, then answers with `body` (the page as it was
    when the request came in). Later requests are not its business (the test
    publishes a new Route for them)."""

    def __init__(self, body: bytes, hold_s: float = 60.0) -> None:
        self.body = body
        self.hold_s = hold_s
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.answered = threading.Event()

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        self.arrived.set()
        self.release.wait(self.hold_s)
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(self.body)))
            handler.end_headers()
            handler.wfile.write(self.body)
            handler.wfile.flush()
        finally:
            self.answered.set()

    def wait_arrived(self, what: str) -> None:
        assert self.arrived.wait(DEADLINE_S), f"timed out waiting for {what}"


def _process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]


def _stop_outside_a_write(pid: int, db: Path) -> None:
    """SIGSTOP `pid` at a moment it holds no write transaction (a process stopped
    inside one would lock every other writer out: a different fault)."""
    for _ in range(50):
        os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: _process_state(pid) == "T", "the process to stop", 10)
        conn = sqlite3.connect(db, timeout=0.2, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            os.kill(pid, signal.SIGCONT)  # caught mid-write: let it finish, try again
        finally:
            conn.close()
    raise AssertionError("the process never paused outside a write transaction")


def _checker_loop(
    desk: Newsroom,
    config: Path,
    stop: threading.Event,
    outputs: list[subprocess.CompletedProcess[str]],
) -> Callable[[], None]:
    def loop() -> None:
        while not stop.is_set():
            outputs.append(
                subprocess.run(
                    _command(desk, config, "check", "--all"),
                    capture_output=True,
                    text=True,
                    timeout=120,
                    cwd=desk.work,
                    env=_env(desk),
                )
            )

    return loop


# -- 1 ------------------------------------------------------------------------------------
ARTICLES = 15
EDITS = 50


def test_daemon_and_two_check_loops_record_and_deliver_each_edit_once(
    server: PageServer, tmp_path: Path
) -> None:
    desk = _desk(server, tmp_path, ARTICLES)
    rng = random.Random(20261201)
    with webhook() as hook:
        config = _config(desk, [hook.url], {})
        daemon = _daemon(desk, config).start()
        stop = threading.Event()
        outputs: list[list[subprocess.CompletedProcess[str]]] = [[], []]
        loops = [threading.Thread(target=_checker_loop(desk, config, stop, out)) for out in outputs]
        try:
            wait_for(lambda: desk.recorded(ARTICLES - 1) == 1, "the seeds imported")
            for loop in loops:
                loop.start()
            made = 0
            while made < EDITS:
                ready = wait_for(
                    lambda: [
                        i for i in range(ARTICLES) if desk.recorded(i) == 1 + len(desk.edits[i])
                    ],
                    "an article whose last edit is recorded",
                    60,
                )
                # Only once its previous edit is in: each edit is observable.
                for i in rng.sample(ready, min(len(ready), 4, EDITS - made)):
                    desk.edit(i)
                    made += 1
            wait_for(desk.all_recorded, "every edit recorded", 60)
            wait_for(lambda: _everything_sent(desk.state), "every alert delivered", 60)
            stop.set()
            for loop in loops:
                loop.join(timeout=120)
            assert daemon.terminate() == 0
        finally:
            stop.set()
            daemon.stop_quietly()
        keys, posts = list(hook.keys), list(hook.posts)
    runs = [run for out in outputs for run in out]
    for run in runs:
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    for i in range(ARTICLES):
        assert _history_markers(desk.state, desk.url(i)) == desk.edits[i]  # each edit once
    alert_keys = _alert_keys(desk.state)
    assert len(alert_keys) == EDITS
    assert query(desk.state, "SELECT DISTINCT event FROM alerts") == [("change",)]
    # Raw, without dropping repeated keys: one post per alert, each key once.
    assert len(posts) == EDITS
    assert sorted(k for k in keys if k) == sorted(alert_keys)
    assert sorted(post["message"].strip() for post in posts) == sorted(
        m.strip() for (m,) in query(desk.state, "SELECT markdown FROM alerts")
    )
    # The three checkers really ran into each other.
    assert any("skipped (being checked by" in run.stderr for run in runs)
    assert any(run.stdout.count("changed (") for run in runs)
    assert "dropped a stale check" not in daemon.output()


# -- 2 ------------------------------------------------------------------------------------
def test_a_daemon_stopped_past_its_lease_records_and_sends_nothing_stale(
    server: PageServer, tmp_path: Path
) -> None:
    desk = _desk(server, tmp_path, 1)
    settings: Settings = {"daemon": {"lease_seconds": "3"}, "fetch": {"total_timeout_s": "2.5"}}
    with webhook() as hook:
        config = _config(desk, [hook.url], settings)
        daemon = _daemon(desk, config).start()
        try:
            wait_for(
                lambda: query(desk.state, "SELECT 1 FROM observations"), "the first check done"
            )
            held = HeldRequest(desk.page(0))
            server.routes[desk.path(0)] = Route(custom=held)
            held.wait_arrived("the daemon's next request")
            assert daemon.proc is not None
            pid = daemon.proc.pid
            _stop_outside_a_write(pid, desk.state / "monitor.db")
            try:
                [(token, owner)] = query(desk.state, "SELECT claim, claimed_by FROM articles")
                assert owner.startswith(f"{pid}@")
                wait_for(
                    lambda: query(
                        desk.state, "SELECT 1 FROM articles WHERE claimed_until <= ?", _now_ms()
                    ),
                    "the stopped daemon's lease to run out",
                )
                desk.edit(0)
                checked = _monitor(desk, config, "check", "--all")
                assert "changed (body)" in checked.stdout and "skipped" not in checked.stderr
                assert "notifications: 1 sent" in checked.stdout
                assert desk.recorded(0) == 2 and len(hook.posts) == 1
                [(claim,)] = query(desk.state, "SELECT claim FROM articles")
                assert claim > token  # the fencing token moved on
                held.release.set()  # the daemon's request gets the page as it was: old
                assert held.answered.wait(DEADLINE_S)
                before = len(daemon.output())
            finally:
                os.kill(pid, signal.SIGCONT)
            # Its stale check ends: dropped (the old page or a timeout), whatever it says.
            wait_for(
                lambda: any(
                    said in daemon.output()[before:]
                    for said in ("dropped a stale check", "error (", "changed (", "restored")
                ),
                "the daemon's stale check to end",
            )
            ended_at = _now_ms()
            beats = _heartbeat(desk.state)
            seen = len(query(desk.state, "SELECT 1 FROM observations"))
            # A few outbox periods (tick 0.2 s) after that, and a check of its own.
            wait_for(
                lambda: _heartbeat(desk.state) > max(beats, ended_at + 1500),
                "heartbeats well after the stale check ended",
            )
            wait_for(
                lambda: len(query(desk.state, "SELECT 1 FROM observations")) > seen,
                "the daemon checking again",
            )
            assert daemon.terminate() == 0
        finally:
            daemon.stop_quietly()
        posts, keys = list(hook.posts), list(hook.keys)
    assert _history_markers(desk.state, desk.url(0)) == desk.edits[0]  # old, edited: no more
    assert desk.recorded(0) == 2 and "revert" not in _change_kinds(desk.state)
    # The stale result is dropped whatever it was (the old page or a timeout): no
    # failure counted for it either.
    assert query(desk.state, "SELECT count(*) FROM observations WHERE outcome = 'error'") == [(0,)]
    assert query(desk.state, "SELECT failures FROM articles") == [(0,)]
    assert len(posts) == 1 and keys == _alert_keys(desk.state)  # sent once, not again
    assert desk.edits[0][0] in posts[0]["message"]
    assert "dropped a stale check" in daemon.output()


# -- 3 ------------------------------------------------------------------------------------
def test_a_slow_stale_fetch_beside_a_fast_one_never_records_the_old_page(
    server: PageServer, tmp_path: Path
) -> None:
    """A lease must outlast the check's deadline (config rule lease_seconds >
    total_timeout_s), so checker A cannot still be fetching once its lease is out: its
    deadline ends the check first. While it holds the lease, B is kept out; when A
    is cut off, B records the edit; the old page A asked for comes only after that."""
    desk = _desk(server, tmp_path, 1)
    settings: Settings = {
        "daemon": {"lease_seconds": "7"},
        "fetch": {"total_timeout_s": "6", "timeout_s": "20", "retries": "0"},
    }
    with webhook() as hook:
        config = _config(desk, [hook.url], settings)
        _monitor(desk, config, "import", "seeds")
        first = _monitor(desk, config, "check", "--all")
        assert "unchanged" in first.stdout and desk.recorded(0) == 1
        held = HeldRequest(desk.page(0))  # answers with the old page, once released
        server.routes[desk.path(0)] = Route(custom=held)
        slow = _started(desk, config, "check", "--all")
        try:
            held.wait_arrived("A's request")
            desk.edit(0)  # what everyone else gets now, at once
            # B while A holds the lease: kept out.
            kept_out = _monitor(desk, config, "check", "--all")
            assert f"skipped (being checked by {slow.pid}@" in kept_out.stderr
            assert kept_out.stdout.startswith("checked 0: 1 skipped") and desk.recorded(0) == 1
            # B again until A's deadline has ended A's check and B could claim.
            wait_for(
                lambda: "changed (body)" in _monitor(desk, config, "check", "--all").stdout,
                "B recording the edit",
                60,
            )
            assert desk.recorded(0) == 2
            slow_out, slow_err = slow.communicate(timeout=DEADLINE_S)
        finally:
            held.release.set()  # the old page, late: to a checker that is gone
            if slow.poll() is None:
                slow.kill()
                slow.wait()
        assert slow.returncode == 0, slow_err
        assert "error (check took longer than 6 s)" in slow_out, slow_out
        assert held.answered.wait(DEADLINE_S)
        after = _monitor(desk, config, "check", "--all")  # and the page as it is now
        assert "unchanged" in after.stdout
        posts = list(hook.posts)
    article_id = desk.article_id(0)
    assert _history_markers(desk.state, desk.url(0)) == desk.edits[0]  # old, then new
    fingerprints = _fingerprints(desk.state, article_id)
    assert len(fingerprints) == 2 and fingerprints[0] != fingerprints[1]
    assert "revert" not in _change_kinds(desk.state)
    # A's error was recorded under its own lease, before B's claim; B's result after it.
    [(errors,)] = query(desk.state, "SELECT count(*) FROM observations WHERE outcome = 'error'")
    assert errors == 1
    [(error_at,)] = query(desk.state, "SELECT ts FROM observations WHERE outcome = 'error'")
    [(version_at,)] = query(desk.state, "SELECT max(ts) FROM versions")
    assert error_at < version_at
    assert len(posts) == 1 and desk.edits[0][0] in posts[0]["message"]


# -- 4 ------------------------------------------------------------------------------------
FAILING = 3
ROUNDS = 5


def test_concurrent_checks_count_each_failure_once_and_alert_once(
    server: PageServer, tmp_path: Path
) -> None:
    desk = _desk(server, tmp_path, FAILING)
    settings: Settings = {
        "fetch": {"retries": "0"},
        "notify": {"failure_alert_after": "3"},
    }
    with webhook() as hook:
        config = _config(desk, [hook.url], settings)
        _monitor(desk, config, "import", "seeds")
        for i in range(FAILING):
            server.routes[desk.path(i)] = Route(status=500, body=b"down")
        ids = [desk.article_id(i) for i in range(FAILING)]
        totals = []
        for _ in range(ROUNDS):
            pair = [_started(desk, config, "check", "--all") for _ in range(2)]
            outs = [p.communicate(timeout=120) for p in pair]
            for process, (_, err) in zip(pair, outs, strict=True):
                assert process.returncode == 0 and "Traceback" not in err, err
            lines = [ln for out, _ in outs for ln in out.splitlines()]
            totals.append(sum(ln.startswith("error (") for ln in lines))
            for article_id in ids:
                [(failures,)] = query(
                    desk.state, "SELECT failures FROM articles WHERE id = ?", article_id
                )
                [(errors,)] = query(
                    desk.state,
                    "SELECT count(*) FROM observations WHERE article_id = ? AND outcome = 'error'",
                    article_id,
                )
                assert failures == errors  # every error counted, none twice
        wait_for(lambda: _everything_sent(desk.state), "the failing alerts delivered")
        posts = list(hook.posts)
    # Each round, every article was checked at least once (by whichever pass held it).
    assert all(total >= FAILING for total in totals)
    rows = query(desk.state, "SELECT failures FROM articles ORDER BY id")
    assert all(failures >= ROUNDS for (failures,) in rows)
    [(errors,)] = query(desk.state, "SELECT count(*) FROM observations WHERE outcome = 'error'")
    assert sum(f for (f,) in rows) == errors == sum(totals)
    alerts = query(desk.state, "SELECT article_id, event FROM alerts ORDER BY article_id")
    assert alerts == [(article_id, "failing") for article_id in ids]  # one each, at 3
    assert len(posts) == FAILING and all("3 checks in a row failed" in p["message"] for p in posts)


# -- 5 ------------------------------------------------------------------------------------
LATER = 2


@pytest.mark.parametrize("before", [2, 1], ids=["digest", "single"])
def test_a_message_cut_off_by_kill_9_is_resent_with_its_key_and_members(
    server: PageServer, tmp_path: Path, before: int
) -> None:
    """Digest mode. `before` alerts go out in one message (a digest of 2, or a lone
    alert) that the receiver holds while the daemon is killed; 2 more alerts queue
    meanwhile. After the restart the held message comes again exactly as it was (key,
    alerts, text) and the later alerts come in another message under another key."""
    desk = _desk(server, tmp_path, before + LATER)
    settings: Settings = {
        "notify": {"digest": "true", "send_timeout_seconds": "30.0"},
        "schedule": {"steps": "[[1000000, 60]]"},  # the daemon only delivers here
    }
    with webhook() as hook:
        config = _config(desk, [hook.url], settings)
        _monitor(desk, config, "import", "seeds")
        for i in range(before):
            desk.edit(i)
        _monitor(desk, config, "check", "--all", "--no-notify")
        pending = query(desk.state, "SELECT count(*) FROM deliveries WHERE state = 'pending'")
        assert pending == [(before,)]
        hook.stall_first, hook.stall_seconds = 1, 60.0
        daemon = _daemon(desk, config).start()
        try:
            assert hook.stalling.wait(DEADLINE_S), "the first message never arrived"
            daemon.kill9()  # while the receiver holds the message
        finally:
            daemon.stop_quietly()
            hook.release.set()
        [(held_key, held_post)] = hook.held
        if before > 1:  # the digest's key and members were fixed before it was sent
            fixed = query(desk.state, "SELECT DISTINCT batch_key FROM deliveries")
            assert fixed == [(held_key,)]
        for i in range(before, before + LATER):
            desk.edit(i)
        _monitor(desk, config, "check", "--all", "--no-notify")
        assert len(_alert_keys(desk.state)) == before + LATER and not hook.posts
        restarted = _daemon(desk, config).start()
        try:
            wait_for(lambda: _everything_sent(desk.state), "every alert delivered")
            assert restarted.terminate() == 0
        finally:
            restarted.stop_quietly()
        posts, keys = list(hook.posts), list(hook.keys)
    alerts = query(desk.state, "SELECT id, created_at FROM alerts ORDER BY id")
    first, later = alerts[:before], alerts[before:]

    def key_of(batch: list[tuple[int, int]]) -> str:
        (a, created), (b, _) = batch[0], batch[-1]
        return f"{a}.{created}" if len(batch) == 1 else f"{a}-{b}.{created}"

    assert held_key == key_of(first)
    # The cut-off message again: same key, same alerts, same text. The later alerts in
    # a message of their own, under their own key.
    assert keys == [held_key, key_of(later)]
    assert posts[0] == held_post
    # The receiver read the held message too (whether or not its answer got back): after
    # dropping the keys it has seen, every alert reached it exactly once.
    kept: dict[str | None, dict[str, object]] = {}
    for key, post in [*hook.held, *zip(keys, posts, strict=True)]:
        assert kept.setdefault(key, post) == post, f"key {key} reused for another message"
    messages = [str(post["message"]) for post in kept.values()]
    assert len(messages) == 2
    for i, edits in enumerate(desk.edits):
        [marker] = edits
        holders = [n for n, message in enumerate(messages) if marker in message]
        assert holders == [0 if i < before else 1], (i, holders)
