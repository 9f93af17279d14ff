"""Scheduling against slow peers, end to end: a slow host beside a fast one, two
daemons started together, a stopped daemon, a receiver that never answers in time,
and a stop request while a check and a send are both stuck."""

from __future__ import annotations

import html
import itertools
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.corpus import ROOT
from support.daemon import (
    DEADLINE_S,
    DaemonProcess,
    NotifySocket,
    Setting,
    monitor_command,
    query,
    wait_for,
    write_config,
)
from support.receivers import webhook
from support.server import PageServer, Route, page_server, stalling_receiver

pytestmark = pytest.mark.slow

SLOW, FAST = "https://slow.example/", "https://fast.example/"
SLOW_ARTICLES, FAST_ARTICLES = 12, 20
TICK = 1.0  # daemon.tick_seconds where the test measures in ticks


def _page(title: str, paragraphs: list[str]) -> bytes:
    """A plain article page, as the generic extractor reads other sites."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{html.escape(title)}</h1>{body}</article></body></html>"
    ).encode()


def _paragraphs(i: int) -> list[str]:
    return [f"Article {i} opens with a sentence of plain text.", f"Its second paragraph ({i})."]


def _publish(server: PageServer, i: int, paragraphs: list[str], trickle_s: float = 0.0) -> None:
    server.routes[f"/a/{i}/"] = Route(body=_page(f"Article {i}", paragraphs), trickle_s=trickle_s)


def _urls(prefix: str, count: int) -> list[str]:
    return [f"{prefix}a/{i}/" for i in range(count)]


def _checked(state: Path, prefix: str) -> int:
    """Articles under `prefix` whose check has been recorded with a version."""
    rows = query(
        state,
        "SELECT count(*) FROM articles WHERE url LIKE ? AND last_check_at IS NOT NULL "
        "AND versions_count >= 1",
        prefix + "%",
    )
    return int(rows[0][0]) if rows else 0


def _now_ms() -> int:
    return int(time.time() * 1000)


class Pulse:
    """The daemon's signs of life from now on, sampled while the test waits: each
    new heartbeat_at in its table row, and when each WATCHDOG=1 arrived."""

    def __init__(self, state: Path, notify: NotifySocket) -> None:
        self.state, self.notify = state, notify
        self.beats: list[int] = [_now_ms()]
        self.watchdogs: list[float] = [time.monotonic()]
        self._seen = len(notify.drain())
        self._last_beat: int | None = None

    def sample(self) -> None:
        rows = query(self.state, "SELECT heartbeat_at FROM daemon")
        if rows and rows[0][0] != self._last_beat:
            self._last_beat = int(rows[0][0])
            self.beats.append(self._last_beat)
        messages = self.notify.drain()
        fresh = messages[self._seen :]
        self._seen = len(messages)
        self.watchdogs += [time.monotonic()] * fresh.count("WATCHDOG=1")

    def longest_beat_gap_s(self) -> float:
        """The longest time without a new heartbeat, from the start until now."""
        points = sorted([*self.beats, _now_ms()])
        return max(b - a for a, b in itertools.pairwise(points)) / 1000

    def longest_watchdog_gap_s(self) -> float:
        points = [*self.watchdogs, time.monotonic()]
        return max(b - a for a, b in itertools.pairwise(points))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


# -- 1. a slow host beside a fast host ------------------------------------------------


def test_a_slow_host_holds_only_its_own_slots(work: Path) -> None:
    """Two checks stuck on a host trickling a byte a second hold that host's two slots
    and nothing else: the fast host's articles are all checked, an edit there is
    alerted, and heartbeat and watchdog keep their beat, while both slow checks are
    still in flight."""
    state = work / "state"
    notify = NotifySocket(work / "notify.sock")
    with (
        page_server("127.0.0.1") as slow,
        page_server("127.0.0.2") as fast,
        webhook() as hook,
    ):
        for i in range(SLOW_ARTICLES):
            _publish(slow, i, _paragraphs(i), trickle_s=1.0)  # a byte a second
        for i in range(FAST_ARTICLES):
            _publish(fast, i, _paragraphs(i))
        config = write_config(
            work / "monitor.toml",
            [hook.url],
            {
                # A slow check lasts the whole test (reads never stall past timeout_s).
                "fetch": {"total_timeout_s": 40.0, "timeout_s": 10.0},
                "daemon": {"tick_seconds": TICK, "seeds": "", "grace_seconds": 2.0},
            },
            log_level="info",
        )
        env = {
            "MONITOR_MIRRORS": f"{SLOW}={slow.base} {FAST}={fast.base}",
            "NOTIFY_SOCKET": str(notify.path),
        }
        added = monitor_command(work, state, config, env, "add", *_urls(SLOW, SLOW_ARTICLES))
        assert added.returncode == 0, added.stderr
        daemon = DaemonProcess(work, state, config, env).start()
        try:
            wait_for(lambda: "READY=1" in notify.drain(), "READY=1")
            wait_for(lambda: slow.in_progress == 2, "two slow checks in flight")
            began = time.monotonic()
            pulse = Pulse(state, notify)
            added = monitor_command(work, state, config, env, "add", *_urls(FAST, FAST_ARTICLES))
            assert added.returncode == 0, added.stderr

            def all_fast_checked() -> bool:
                pulse.sample()
                return _checked(state, FAST) == FAST_ARTICLES

            wait_for(all_fast_checked, "every fast article checked", 6 * TICK)
            fast_phase_s = time.monotonic() - began

            # An edit on the fast host is detected and delivered, slow checks or not.
            edited_at = _now_ms()
            _publish(fast, 0, [*_paragraphs(0), "A sentence added later."])

            def delivered() -> bool:
                pulse.sample()
                return bool(hook.posts)

            wait_for(delivered, "the alert for the edit", 4 * TICK + 2)
            posted_at = _now_ms()
            [(recorded_at,)] = query(
                state,
                "SELECT max(ts) FROM versions JOIN articles ON articles.id = article_id "
                "WHERE url = ?",
                FAST + "a/0/",
            )
            # Nothing on the slow host has finished: its two checks are still in flight.
            still_in_flight = slow.in_progress
            slow_recorded = query(
                state,
                "SELECT count(*) FROM articles WHERE url LIKE ? AND last_check_at IS NOT NULL",
                SLOW + "%",
            )
            pulse.sample()
            beat_gap_s, watchdog_gap_s = pulse.longest_beat_gap_s(), pulse.longest_watchdog_gap_s()
            assert daemon.terminate() == 0
        finally:
            daemon.stop_quietly()
            notify.close()
        slow_requests, most_slow, most_fast = (
            len(slow.hits),
            slow.most_in_progress,
            fast.most_in_progress,
        )
    print(
        f"fast phase {fast_phase_s:.2f}s, edit->recorded {(recorded_at - edited_at) / 1000:.2f}s, "
        f"recorded->posted {(posted_at - recorded_at) / 1000:.2f}s, "
        f"beat gap {beat_gap_s:.2f}s, watchdog gap {watchdog_gap_s:.2f}s, beats {len(pulse.beats)}"
    )
    assert still_in_flight == 2 and slow_requests == 2 and most_slow == 2
    assert slow_recorded == [(0,)]
    assert most_fast <= 2  # per_host_concurrency on the fast host too
    assert len(hook.posts) == 1 and "A sentence added later" in hook.posts[0]["message"]
    # Found within a check interval and a tick of the edit; sent within a tick of that.
    assert recorded_at - edited_at <= (0.3 + TICK + 1.5) * 1000
    assert posted_at - recorded_at <= (TICK + 1.0) * 1000
    assert beat_gap_s <= 3 * TICK
    assert len(pulse.watchdogs) >= 3 and watchdog_gap_s <= 3 * TICK
    assert "Traceback" not in daemon.output()


# -- 2. two daemons started together ---------------------------------------------------

ROUNDS = 100


def _first_to_exit(procs: list[subprocess.Popen[bytes]], deadline_s: float) -> list[int]:
    """Wait (no polling) until at least one process has exited; the indexes of those
    that have."""
    fds = [os.pidfd_open(p.pid) for p in procs]
    try:
        ready, _, _ = select.select(fds, [], [], deadline_s)
    finally:
        for fd in fds:
            os.close(fd)
    assert ready, "neither process exited"
    return [i for i, p in enumerate(procs) if p.poll() is not None]


def _read_until(proc: subprocess.Popen[bytes], text: bytes, deadline_s: float) -> bytes:
    """What the process wrote until `text` appeared in it (or it ended)."""
    assert proc.stdout is not None
    fd, seen = proc.stdout.fileno(), b""
    end = time.monotonic() + deadline_s
    while text not in seen:
        left = end - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, left))
        assert ready, f"timed out waiting for {text!r}; got {seen!r}"
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        seen += chunk
    return seen


def test_two_daemons_started_together_one_runs_the_other_is_refused(work: Path) -> None:
    """However the two race for the lock, one runs and the other exits 1 naming it."""
    state = work / "state"
    config = write_config(work / "monitor.toml", [], {"daemon": {"seeds": ""}}, log_level="info")
    command = [
        *(sys.executable, "-m", "monitor", "--state-dir", str(state), "--config", str(config)),
        "run",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    misnamed: list[tuple[int, str]] = []  # rounds whose refusal named another pid
    started = time.monotonic()
    for round_ in range(ROUNDS):
        procs = [
            subprocess.Popen(
                command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            for _ in range(2)
        ]
        try:
            ended = _first_to_exit(procs, DEADLINE_S)
            assert len(ended) == 1, f"round {round_}: both exited"
            loser, winner = procs[ended[0]], procs[1 - ended[0]]
            said = loser.communicate(timeout=DEADLINE_S)[0].decode(errors="replace")
            assert loser.returncode == 1, (round_, said)
            assert "error: another daemon (pid " in said, (round_, said)
            assert f"is running on {state}" in said, (round_, said)
            if f"(pid {winner.pid})" not in said:
                misnamed.append((round_, said.strip()))
            # The other one runs: it started, owns the heartbeat row, and is alive.
            log = _read_until(winner, b"started: pid", DEADLINE_S)
            assert f"started: pid {winner.pid}".encode() in log, (round_, log)
            assert query(state, "SELECT pid, state FROM daemon") == [(winner.pid, "running")]
            assert winner.poll() is None, round_
            winner.send_signal(signal.SIGTERM)
            log += winner.communicate(timeout=DEADLINE_S)[0]
            assert winner.returncode == 0, (round_, log)
            assert b"Traceback" not in log, (round_, log)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                proc.communicate(timeout=DEADLINE_S)
    print(f"{ROUNDS} rounds in {time.monotonic() - started:.1f}s")
    assert query(state, "SELECT state FROM daemon") == [("stopped",)]
    # The refusal names the daemon that holds the lock.
    assert not misnamed, f"{len(misnamed)} of {ROUNDS} refusals named another pid: {misnamed}"


# -- 3. a stopped daemon keeps its lock ------------------------------------------------


def _fast_site_daemon(
    work: Path,
    server: PageServer,
    targets: list[str],
    count: int,
    slow: PageServer | None = None,
    **sections: dict[str, Setting],
) -> DaemonProcess:
    """A daemon watching `count` articles of the fast site (added before it starts);
    with a `slow` server, slow.example is fetched from it."""
    for i in range(count):
        _publish(server, i, _paragraphs(i))
    settings: dict[str, dict[str, Setting]] = {"daemon": {"seeds": ""}}
    for name, values in sections.items():
        settings[name] = {**settings.get(name, {}), **values}
    config = write_config(work / "monitor.toml", targets, settings, log_level="info")
    mirrors = f"{FAST}={server.base}" + (f" {SLOW}={slow.base}" if slow else "")
    env = {"MONITOR_MIRRORS": mirrors}
    added = monitor_command(work, work / "state", config, env, "add", *_urls(FAST, count))
    assert added.returncode == 0, added.stderr
    return DaemonProcess(work, work / "state", config, env)


def _observations(state: Path) -> int:
    rows = query(state, "SELECT count(*) FROM observations")
    return int(rows[0][0]) if rows else 0


def _heartbeat(state: Path) -> tuple[int, int]:
    [(pid, beat)] = query(state, "SELECT pid, heartbeat_at FROM daemon")
    return int(pid), int(beat)


def _process_state(pid: int) -> str:
    """The one-letter state in /proc/PID/stat (T: stopped by a signal)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]


def test_a_stopped_daemon_keeps_its_lock_and_goes_on_after_sigcont(work: Path) -> None:
    """A SIGSTOPped daemon with a stale heartbeat still holds the lock: a second one is
    refused, and the first goes on checking after SIGCONT."""
    state = work / "state"
    tick = 0.2  # write_config's daemon.tick_seconds
    with page_server() as server:
        daemon = _fast_site_daemon(work, server, [], 3)
        second = DaemonProcess(work, state, daemon.config, daemon.env)
        second.log = work / "second.log"
        try:
            proc = daemon.start().proc
            assert proc is not None
            wait_for(lambda: _observations(state) >= 6, "the daemon checking")
            proc.send_signal(signal.SIGSTOP)
            wait_for(lambda: _process_state(proc.pid) == "T", "the daemon stopped")
            stopped_at = time.monotonic()
            pid, beat = _heartbeat(state)
            assert pid == proc.pid
            # The fault: stopped for 20 ticks, long past the 3 ticks after which its
            # heartbeat is stale (`monitor status` allows at least 2 minutes).
            time.sleep(20 * tick)
            refused = second.start().proc
            assert refused is not None and refused.wait(timeout=DEADLINE_S) == 1
            assert f"error: another daemon (pid {proc.pid}) is running" in second.output()
            assert _heartbeat(state) == (pid, beat)  # the refused one wrote nothing
            assert _process_state(proc.pid) == "T"
            checks_while_stopped = _observations(state)
            proc.send_signal(signal.SIGCONT)
            paused_s = time.monotonic() - stopped_at
            wait_for(lambda: _heartbeat(state)[1] > beat, "a heartbeat after SIGCONT")
            wait_for(
                lambda: _observations(state) > checks_while_stopped + 3, "checks after SIGCONT"
            )
            assert proc.poll() is None
            assert daemon.terminate() == 0
        finally:
            if daemon.proc is not None and daemon.proc.poll() is None:
                daemon.proc.send_signal(signal.SIGCONT)
            daemon.stop_quietly()
            second.stop_quietly()
    print(f"stopped for {paused_s:.1f}s")
    log = daemon.output()
    assert "Traceback" not in log and " ERROR " not in log, log
    assert query(state, "SELECT pid, state FROM daemon") == [(proc.pid, "stopped")]


# -- 4. a receiver that answers after 40 s ---------------------------------------------


def test_a_receiver_slower_than_the_send_timeout_gets_one_request_per_attempt(
    work: Path,
) -> None:
    """A send that times out (2 s) against a receiver answering after 40 s is retried
    under the same key, never overlapping the last attempt, one request each."""
    state = work / "state"
    with page_server() as server, stalling_receiver(40.0) as receiver:
        daemon = _fast_site_daemon(
            work,
            server,
            [receiver.url],
            1,
            notify={
                "send_timeout_seconds": 2.0,
                "retry_initial_seconds": 0.5,
                "retry_max_seconds": 1.0,
            },
        ).start()
        try:
            wait_for(lambda: _checked(state, FAST) == 1, "the first check")
            _publish(server, 0, [*_paragraphs(0), "A sentence added later."])
            wait_for(lambda: len(receiver.arrivals) >= 4, "four attempts at the receiver")
            assert daemon.terminate() == 0
        finally:
            daemon.stop_quietly()
        arrivals = list(receiver.arrivals)
    [(alert_id, created_at)] = query(state, "SELECT id, created_at FROM alerts")
    [(attempts, delivery_state, last_error)] = query(
        state, "SELECT attempts, state, last_error FROM deliveries"
    )
    gaps = [b.at - a.at for a, b in itertools.pairwise(arrivals)]
    print(f"{len(arrivals)} requests, {attempts} attempts, gaps {[round(g, 2) for g in gaps]}")
    # One message, under one key on every attempt.
    assert {a.key for a in arrivals} == {f"{alert_id}.{created_at}"}
    assert all("A sentence added later" in str(a.body["message"]) for a in arrivals)
    # One request per attempt: the next starts only once the last one timed out (2 s).
    assert min(gaps) >= 2.0 - 0.05, gaps
    # An attempt is counted just before its request goes out: a stop in between
    # leaves one more attempt than requests.
    assert len(arrivals) <= attempts <= len(arrivals) + 1
    assert delivery_state == "pending" and last_error
    assert "Traceback" not in daemon.output()


# -- 5. SIGTERM while a check and a send are stuck -------------------------------------


def test_sigterm_with_a_check_and_a_send_stuck_exits_cleanly_in_time(work: Path) -> None:
    """SIGTERM ends the daemon with 0 within grace_seconds + 5 s though a check waits
    on a trickling server and a send on a receiver that does not answer."""
    state = work / "state"
    grace = 2.0
    with (
        page_server("127.0.0.2") as slow,
        page_server() as server,
        stalling_receiver(40.0) as receiver,
    ):
        _publish(slow, 0, _paragraphs(0), trickle_s=1.0)
        daemon = _fast_site_daemon(
            work,
            server,
            [receiver.url],
            1,
            slow,
            fetch={"total_timeout_s": 60.0, "timeout_s": 10.0},
            daemon={"grace_seconds": grace},
            notify={"send_timeout_seconds": 60.0},
        ).start()
        try:
            wait_for(lambda: _checked(state, FAST) == 1, "the first check")
            added = monitor_command(work, state, daemon.config, daemon.env, "add", *_urls(SLOW, 1))
            assert added.returncode == 0, added.stderr
            _publish(server, 0, [*_paragraphs(0), "A sentence added later."])
            wait_for(lambda: slow.in_progress and receiver.arrivals, "a stuck check and send")
            assert daemon.proc is not None
            daemon.proc.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            try:
                code = daemon.proc.wait(timeout=grace + 5)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running {grace + 5:g} s after SIGTERM")
            took = time.monotonic() - asked
        finally:
            daemon.stop_quietly()
    print(f"stopped in {took:.2f}s")
    assert code == 0
    log = daemon.output()
    assert "Traceback" not in log and " ERROR " not in log, log
    assert "abandoning 1 in-flight checks" in log and "stopped" in log
    # Nothing of the stuck check was recorded, and no lease outlives the daemon: the
    # article and the delivery are due for the next daemon.
    assert query(state, "SELECT last_check_at FROM articles WHERE url = ?", SLOW + "a/0/") == [
        (None,)
    ]
    assert query(state, "SELECT count(*) FROM articles WHERE claimed_until IS NOT NULL") == [(0,)]
    assert query(state, "SELECT state, claimed_until FROM deliveries") == [("pending", None)]
    assert query(state, "SELECT state FROM daemon") == [("stopped",)]
