"""One daemon per database: an exclusive lock on a file beside it, held for the
daemon's whole life and released by the kernel however the process ends (kill -9
included). A stopped (SIGSTOP) daemon still holds it, so no second one starts."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from monitor.errors import MonitorError

LOCK_NAME = "daemon.lock"
HOLDER_WAIT_S = 2.0


class DaemonLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise MonitorError naming the daemon that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise MonitorError(
                f"another daemon (pid {holder}) is running on {self.path.parent}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def _holder(fd: int) -> str:
    """The pid the lock's holder wrote. It writes it just after taking the lock, so a
    process that lost a race by microseconds may find the file empty or still naming
    the previous holder: look again briefly until it names a live process."""
    end = time.monotonic() + HOLDER_WAIT_S
    while True:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        if text.isdigit() and _alive(int(text)):
            return text
        if time.monotonic() > end:
            return text or "?"
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def daemon_holds_lock(state_dir: Path) -> bool | None:
    """Whether a daemon holds the lock now (a read-only check, for `status`); None
    when the lock file cannot be read (never created, or not ours to open)."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
