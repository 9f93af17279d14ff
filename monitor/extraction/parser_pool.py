"""Parsing pages on every core.

Reading a page (selectolax, the signature, the block walk) costs more CPU than
fetching it; done in the checking process it is that process's bottleneck. A pool
of worker processes reads pages instead, while the checking process goes on
fetching and writing.

Each worker is one process at the end of one socket; pages go over it as
length-prefixed frames, written and read by the event loop itself. (A
ProcessPoolExecutor's feeder and manager threads cost the checking process about
0.4 ms of CPU per 100 KB page, as much as reading the page there: measured, it made
handing pages over pointless.)

The workers are separate processes: a page that crashes the parser costs one
worker (replaced) and gives that article a clear error, not the daemon.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from monitor.article import Article
from monitor.errors import ExtractionError

T = TypeVar("T")
log = logging.getLogger("monitor.extraction.parser_pool")
_HEADER = struct.Struct("!i")  # multiprocessing.Connection's framing, so the worker uses it
_READ_SIZE = 1 << 20


def examine_page(
    raw: bytes, charset: str | None, url: str, known: str | None
) -> tuple[str | None, Article | None]:
    """A page's signature, and its article unless the signature is `known` (in a
    worker)."""
    from monitor.extraction.table import examine

    return examine(raw, charset, url, known)


def parse_page(raw: bytes, charset: str | None, url: str) -> Article:
    """Decode and extract one page (in a worker)."""
    from monitor.extraction.table import extract
    from monitor.fetching.charset import decode

    return extract(decode(charset, raw)[1], url)


class _WorkerDied(Exception):
    pass


@dataclass
class _Job:
    number: int
    future: asyncio.Future[tuple[bool, Any]] | None  # None: its loop is gone


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    sock: socket.socket
    jobs: deque[_Job] = field(default_factory=deque)  # answered in the order sent
    buffer: bytearray = field(default_factory=bytearray)
    lock: asyncio.Lock | None = None  # one frame written at a time
    loop: asyncio.AbstractEventLoop | None = None
    dead: bool = False


class ParserPool:
    """`await pool.parse(raw, charset, url)`: an Article, or ExtractionError;
    `await pool.examine(...)`: a page's signature, and its article if that moved."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")  # not fork: see _start_worker
        self._pool = [self._start_worker() for _ in range(workers)]
        self._numbers = 0

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._pool if w.process.pid is not None]

    async def examine(
        self, raw: bytes, charset: str | None, url: str, known: str | None
    ) -> tuple[str | None, Article | None]:
        """(signature, article or None when the signature is `known`)."""
        return await self.run(examine_page, raw, charset, url, known)

    async def parse(self, raw: bytes, charset: str | None, url: str) -> Article:
        return await self.run(parse_page, raw, charset, url)

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """`func(*args)` in a worker; `func` must be a module-level function."""
        # A dying worker fails every page it holds: each gets one more try on another
        # worker, so only a page that kills the parser twice is given an error.
        frame_body = pickle.dumps((func, args), protocol=pickle.HIGHEST_PROTOCOL)
        for attempt in (1, 2):
            try:
                ok, value = await self._submit(frame_body)
            except _WorkerDied as exc:
                if attempt == 2:
                    raise ExtractionError("the page parser crashed on this page") from exc
                continue
            if not ok:
                raise value
            return value  # type: ignore[no-any-return]
        raise AssertionError("unreachable")

    async def _submit(self, body: bytes) -> tuple[bool, Any]:
        worker = self._least_busy()
        self._attach(worker)
        assert worker.lock is not None and worker.loop is not None
        self._numbers += 1
        future: asyncio.Future[tuple[bool, Any]] = worker.loop.create_future()
        job = _Job(self._numbers, future)
        frame = _HEADER.pack(len(body) + 8) + struct.pack("!q", job.number) + body
        async with worker.lock:
            # Queued before sending: the answer may be read before this task resumes.
            worker.jobs.append(job)
            try:
                await worker.loop.sock_sendall(worker.sock, frame)
            except (OSError, asyncio.CancelledError) as exc:
                self._lost(worker)  # half a frame may be out: the stream is unusable
                if isinstance(exc, asyncio.CancelledError):
                    raise
                raise _WorkerDied(str(exc)) from exc
        try:
            return await future
        except asyncio.CancelledError:
            if worker.jobs and worker.jobs[0] is job and not worker.dead:
                # The page being read was given up (its check's deadline passed):
                # the worker may be stuck in it, so it is replaced.
                self._lost(worker)
            raise

    def _least_busy(self) -> _Worker:
        for index, worker in enumerate(self._pool):
            if worker.dead or not worker.process.is_alive():
                self._lost(worker)
                self._pool[index] = self._start_worker()
        return min(self._pool, key=lambda w: len(w.jobs))

    def _attach(self, worker: _Worker) -> None:
        """Listen to the worker on the running loop (each asyncio.run has its own)."""
        loop = asyncio.get_running_loop()
        if worker.loop is loop:
            return
        for job in worker.jobs:  # owed to a loop that is gone: read, and dropped
            job.future = None
        worker.loop, worker.lock = loop, asyncio.Lock()
        loop.add_reader(worker.sock.fileno(), self._readable, worker)

    def _readable(self, worker: _Worker) -> None:
        try:
            data = worker.sock.recv(_READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost(worker)
            return
        worker.buffer += data
        while len(worker.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(worker.buffer)
            if len(worker.buffer) < _HEADER.size + size:
                break
            frame = bytes(worker.buffer[_HEADER.size : _HEADER.size + size])
            del worker.buffer[: _HEADER.size + size]
            self._answer(worker, frame)
            if worker.dead:
                return

    def _answer(self, worker: _Worker, frame: bytes) -> None:
        """Answers come in the order pages were sent: anything else (or an answer
        that cannot be read) means the stream is not to be trusted."""
        try:
            number, ok, value = pickle.loads(frame)
        except Exception:
            log.exception("a page parser's answer could not be read")
            self._lost(worker)
            return
        if not worker.jobs or worker.jobs[0].number != number:
            log.error("a page parser answered out of turn")
            self._lost(worker)
            return
        job = worker.jobs.popleft()
        if job.future is not None and not job.future.done():
            job.future.set_result((ok, value))

    def _lost(self, worker: _Worker) -> None:
        """The worker is dead or not to be trusted: kill it, fail what it held."""
        if worker.dead:
            return
        alive = worker.process.is_alive()
        self._hang_up(worker)
        if alive:
            worker.process.kill()
        else:
            log.error("a page parser process died; starting a new one")

    def _hang_up(self, worker: _Worker) -> None:
        """Stop listening to the worker and fail the pages it still holds."""
        worker.dead = True
        if worker.loop is not None and not worker.loop.is_closed():
            worker.loop.remove_reader(worker.sock.fileno())
        worker.sock.close()  # a worker still alive reads end-of-file and exits
        for job in worker.jobs:
            if job.future is not None and not job.future.done():
                job.future.set_exception(_WorkerDied("page parser process died"))
        worker.jobs.clear()

    def _start_worker(self) -> _Worker:
        # spawn, not fork: the checking process has an event loop and a database open.
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve, args=(theirs, os.getpid()), name="monitor-parser", daemon=True
        )
        process.start()
        theirs.close()
        sock = socket.socket(fileno=os.dup(ours.fileno()))
        ours.close()
        sock.setblocking(False)
        return _Worker(process, sock)

    def close(self, wait: bool = True) -> None:
        """Stop the workers; without `wait`, a parse in progress is not waited for
        (a stopping daemon's workers die with it: see _die_with_parent)."""
        for worker in self._pool:
            if not worker.dead:
                self._hang_up(worker)
        for worker in self._pool:
            worker.process.join(5 if wait else 0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)


def _serve(conn: Connection, parent: int) -> None:
    """A worker's life: read a page, answer, until the checking process hangs up."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the checking process's
    while True:
        try:
            frame = conn.recv_bytes()
        except (EOFError, OSError):
            return
        (number,) = struct.unpack_from("!q", frame)
        func, args = pickle.loads(memoryview(frame)[8:])
        try:
            answer: tuple[bool, object] = (True, func(*args))
        except Exception as exc:  # ExtractionError, or a bug: the page's own error
            answer = (False, exc)
        try:
            payload = pickle.dumps((number, *answer), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            payload = pickle.dumps((number, False, ExtractionError(f"unreadable: {exc!r}")))
        try:
            conn.send_bytes(payload)
        except OSError:
            return


def _die_with_parent(parent: int) -> None:
    """Worker start-up: a `kill -9` of the daemon must not leave its workers behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
