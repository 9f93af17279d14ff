"""Start the real daemon as a subprocess and wait for things with deadlines."""

from __future__ import annotations

import json
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


Setting = str | int | float | bool | list[str]


def _toml(value: Setting) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)  # a string or a list of strings, as TOML reads it


def write_config(
    path: Path,
    targets: list[str],
    sections: dict[str, dict[str, Setting]] | None = None,
    **extra: str,
) -> Path:
    """A fast test config; `sections` sets more keys, e.g. {"fetch": {"retries": 0}}
    (a key already written here is replaced, others are added to their section)."""
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
    for section, settings in (sections or {}).items():
        if f"[{section}]" not in lines:
            lines.append(f"[{section}]")
        for key, value in settings.items():
            start = lines.index(f"[{section}]") + 1
            end = next(
                (i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines)
            )
            line = f"{key} = {_toml(value)}"
            same = [i for i in range(start, end) if lines[i].startswith(f"{key} = ")]
            if same:
                lines[same[0]] = line
            else:
                lines.insert(end, line)
    path.write_text("\n".join(lines) + "\n")
    return path


def monitor_command(
    workdir: Path,
    state_dir: Path,
    config: Path,
    env: dict[str, str] | None,
    *args: str,
    timeout_s: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """One `monitor` command run to its end as a real process (e.g. `add URL...`)."""
    command = [sys.executable, "-m", "monitor", "--state-dir", str(state_dir)]
    command += ["--config", str(config), *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=workdir,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
    )


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
