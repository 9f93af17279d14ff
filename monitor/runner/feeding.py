"""Handing work to free slots, host by host.

A pass over many articles must not start them all at once: that holds every page in
memory at the same time, and checks queued behind one host's politeness limits would
spend their deadlines waiting. Work waits here instead, per host, and is handed out
round-robin to hosts that have room for another check.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class HostFeeder(Generic[T]):
    def __init__(self, per_host: int) -> None:
        self.per_host = max(1, per_host)
        self._queues: dict[str, deque[T]] = {}
        self._busy: dict[str, int] = {}
        self._ready: deque[str] = deque()  # hosts with work and room (checked on use)
        self._listed: set[str] = set()
        self._waiting = 0

    def __len__(self) -> int:
        return self._waiting

    def add(self, host: str, item: T) -> None:
        self._queues.setdefault(host, deque()).append(item)
        self._waiting += 1
        self._list(host)

    def take(self, slots: int) -> list[tuple[str, T]]:
        """Up to `slots` items, at most one host's room each; they count as busy."""
        taken: list[tuple[str, T]] = []
        while len(taken) < slots and self._ready:
            host = self._ready.popleft()
            self._listed.discard(host)
            queue = self._queues.get(host)
            if not queue or self._busy.get(host, 0) >= self.per_host:
                continue
            taken.append((host, queue.popleft()))
            self._waiting -= 1
            self._busy[host] = self._busy.get(host, 0) + 1
            if not queue:
                del self._queues[host]
            self._list(host)
        return taken

    def done(self, host: str) -> None:
        """One item of `host` finished (or was never started): its slot is free."""
        left = self._busy.get(host, 0) - 1
        if left > 0:
            self._busy[host] = left
        else:
            self._busy.pop(host, None)
        self._list(host)

    def _list(self, host: str) -> None:
        if host in self._listed or not self._queues.get(host):
            return
        if self._busy.get(host, 0) < self.per_host:
            self._ready.append(host)
            self._listed.add(host)
