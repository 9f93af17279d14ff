"""Who this process is, as written on the leases it takes: "pid@host"."""

from __future__ import annotations

import os
import socket


def owner() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


def owner_is_dead(name: str) -> bool:
    """Whether the process behind an owner name is known to be gone (this host only:
    a process on another host is never presumed dead; its leases run out instead)."""
    pid, _, host = name.partition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
