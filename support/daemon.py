"""Start the real daemon as a subprocess and wait for things with deadlines."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.corpus import ROOT

DEADLINE_S = 30.0


def wait_for(condition: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """Poll `condition` until it is truthy; fail naming `what` after the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def query(state_dir: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    db = state_dir / "monitor.db"
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []  # schema not created yet
    finally:
        conn.close()


def write_config(path: Path, targets: list[str], **extra: str) -> Path:
    lines = [
        "[fetch]",
        "per_host_delay_s = 0",
        "backoff_s = 0.05",
        "timeout_s = 2.0",
        "retries = 1",
        "[schedule]",
        "steps = [[1000000, 0.005]]",
        "jitter_fraction = 0.0",
        "[daemon]",
        "tick_seconds = 0.2",
        "spread_seconds = 0.0",
        "grace_seconds = 5.0",
        f'log_level = "{extra.get("log_level", "debug")}"',
        "[notify]",
        "retry_initial_seconds = 0.2",
        "retry_max_seconds = 0.5",
        f"targets = [{', '.join(repr(t).replace(chr(39), chr(34)) for t in targets)}]",
        "send_timeout_seconds = 5.0",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class DaemonProcess:
    def __init__(
        self, workdir: Path, state_dir: Path, config: Path, env: dict[str, str] | None = None
    ) -> None:
        self.workdir, self.state_dir, self.config = workdir, state_dir, config
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "daemon.log"
        self.popen_extra: dict[str, Any] = {}

    def start(self) -> DaemonProcess:
        env = {**self.env, "PYTHONPATH": str(ROOT)}
        command = [
            sys.executable,
            "-m",
            "monitor",
            "--state-dir",
            str(self.state_dir),
            "--config",
            str(self.config),
            "run",
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=log, **self.popen_extra
            )
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=DEADLINE_S)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=DEADLINE_S)

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE_S)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.messages: list[str] = []

    def drain(self) -> list[str]:
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages

    def close(self) -> None:
        self.sock.close()
