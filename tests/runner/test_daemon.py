from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.corpus import BIDEN_NEW, BIDEN_OLD, ROOT, load_article
from support.daemon import DaemonProcess, NotifySocket, query, wait_for, write_config
from support.pages import nyt_page
from support.receivers import free_port, html_part, smtp_server, webhook
from support.server import PageServer, Route, page_server

pytestmark = pytest.mark.slow
PATH = "/usa/20240701/biden-campaign-debate-scramble/"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[PageServer, Path]]:
    """A page server with the Biden article, and a work dir whose seeds/ holds its file."""
    work = tmp_path / "work"
    (work / "seeds").mkdir(parents=True)
    shutil.copy(BIDEN_OLD, work / "seeds" / BIDEN_OLD.name)
    with page_server() as server:
        server.routes[PATH] = Route(body=nyt_page(load_article(BIDEN_OLD)).encode())
        yield server, work


def _daemon(work: Path, server: PageServer, targets: list[str], **env: str) -> DaemonProcess:
    config = write_config(work / "monitor.toml", targets)
    mirrors = {"MONITOR_MIRRORS": f"https://cn.nytimes.com/={server.base}"}
    return DaemonProcess(work, work / "state", config, {**mirrors, **env})


def _checks(state: Path) -> int:
    return len(query(state, "SELECT 1 FROM observations"))


def _status(work: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "monitor",
        "--state-dir",
        str(work / "state"),
        "status",
        "--json",
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _edit(server: PageServer) -> None:
    server.routes[PATH] = Route(body=nyt_page(load_article(BIDEN_NEW), token="new").encode())


def _parser_workers(parent: int) -> list[int]:
    """Live worker processes (multiprocessing spawn) whose parent is `parent`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue  # the process went away meanwhile
        if int(fields[1]) == parent and fields[0] != "Z" and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_edit_is_mailed_and_posted_with_its_diff(site: tuple[PageServer, Path]) -> None:
    server, work = site
    notify_socket = NotifySocket(work / "notify.sock")
    with smtp_server() as (mailbox, mail_url), webhook() as hook:
        daemon = _daemon(
            work, server, [mail_url, hook.url], NOTIFY_SOCKET=str(notify_socket.path)
        ).start()
        try:
            wait_for(lambda: "READY=1" in notify_socket.drain(), "READY=1")
            state = work / "state"
            wait_for(lambda: _checks(state) >= 2, "the seed imported and checked")
            assert not mailbox.messages and not hook.posts  # first sight and no change: quiet
            assert daemon.proc is not None
            workers = _parser_workers(daemon.proc.pid)
            assert len(workers) == 1  # check.parse_workers: the first check parsed there
            _edit(server)
            wait_for(lambda: mailbox.messages and hook.posts, "the email and the chat message")
            status = _status(work)
            assert status.returncode == 0, status.stdout
            report = json.loads(status.stdout)
            assert report["running"] and report["healthy"] and report["articles"] == 1
            assert daemon.terminate() == 0
        finally:
            daemon.stop_quietly()
        [mail] = mailbox.messages
        assert "[changed: body]" in mail["Subject"]
        html = html_part(mail)
        assert re.search(r"<del [^>]*>觉得好笑</del>", html), html
        assert re.search(r"<ins [^>]*>绷不住</ins>", html), html
        assert 'href="https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"' in html
        [post] = hook.posts
        assert "~~觉得好笑~~**绷不住**" in post["message"]
        assert "\\[body\\]" in post["message"] or "[body]" in post["message"]
    wait_for(lambda: not _parser_workers(daemon.proc.pid), "the parser workers to stop", 10)
    messages = notify_socket.drain()
    assert "WATCHDOG=1" in messages and messages[-1] == "STOPPING=1"
    assert "stopped" in daemon.output()
    [(state_name,)] = query(work / "state", "SELECT state FROM daemon")
    assert state_name == "stopped"


def test_kill_9_between_commit_and_delivery_loses_nothing(site: tuple[PageServer, Path]) -> None:
    server, work = site
    port = free_port()  # nothing listens yet: the target is down
    daemon = _daemon(work, server, [f"json://editor:hunter2pw@127.0.0.1:{port}/hook"]).start()
    state = work / "state"
    try:
        wait_for(lambda: _checks(state) >= 2, "first checks")
        _edit(server)
        wait_for(
            lambda: query(state, "SELECT 1 FROM deliveries WHERE last_error IS NOT NULL"),
            "a failed delivery attempt of the committed alert",
        )
        daemon.kill9()
    finally:
        daemon.stop_quietly()
    assert query(state, "SELECT state FROM deliveries") == [("pending",)]
    with webhook(port) as hook:
        restarted = DaemonProcess(work, state, daemon.config, daemon.env).start()
        try:
            wait_for(lambda: hook.posts, "the notification after the restart")
            wait_for(
                lambda: query(state, "SELECT 1 FROM deliveries WHERE state = 'sent'"),
                "the delivery marked sent",
            )
            assert restarted.terminate() == 0
        finally:
            restarted.stop_quietly()
        assert len(hook.posts) == 1
        assert "绷不住" in hook.posts[0]["message"]
    versions = query(state, "SELECT count(*) FROM versions")
    assert versions == [(2,)]
    log = daemon.output()
    assert "delivery to json://editor:****@127.0.0.1" in log  # failures are logged, masked
    assert "hunter2pw" not in log


def test_target_down_then_up_gets_everything_once_in_order(site: tuple[PageServer, Path]) -> None:
    server, work = site
    with webhook() as hook:
        hook.fail_with = [500, 500, 500, 503]
        daemon = _daemon(work, server, [hook.url]).start()
        state = work / "state"
        try:
            wait_for(lambda: _checks(state) >= 2, "first checks")
            _edit(server)
            wait_for(lambda: len(query(state, "SELECT 1 FROM versions")) == 2, "first edit")
            retitled = load_article(BIDEN_NEW)
            import dataclasses

            retitled = dataclasses.replace(retitled, title="新标题：拜登团队的疯狂48小时")
            server.routes[PATH] = Route(body=nyt_page(retitled).encode())
            wait_for(lambda: len(hook.posts) == 2, "both notifications")
            assert daemon.terminate() == 0
        finally:
            daemon.stop_quietly()
    assert "绷不住" in hook.posts[0]["message"]
    assert "[changed: title]" in hook.posts[1]["title"]
    assert query(state, "SELECT count(*) FROM deliveries WHERE state = 'sent'") == [(2,)]
