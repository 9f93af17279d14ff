"""Text from pages and snapshot files reaches a terminal escaped: a title or URL holding
an escape sequence (retitle the window, clear the screen, ring the bell) shows as
`\\u001b`-style escapes in every command that prints it, never as the raw bytes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.snapshot import Snapshot, read_file
from support.cli import run
from support.corpus import BIDEN_NEW, BIDEN_OLD, load_article
from support.pages import nyt_page
from support.server import PageServer, Route, page_server

HOSTILE_TITLE = "标题\x1b]0;pwned\x07\x1b[2J"
SHOWN_TITLE = "标题\\u001b]0;pwned\\u0007\\u001b[2J"
HOSTILE_PATH = "/usa/20240701/hostile-title/"
HOSTILE_URL = "https://cn.nytimes.com" + HOSTILE_PATH
ODD_URL = "https://cn.nytimes.com/usa/20240701/odd\x1b[31m\x07path/"
SHOWN_ODD = "odd\\u001b[31m\\u0007path"
RAW_CONTROLS = ("\x1b", "\x07")


def _printed(result: Result) -> str:
    """Everything the command wrote, stdout and stderr."""
    return result.stdout + result.stderr


def _assert_inert(result: Result, *shown: str) -> None:
    text = _printed(result)
    leaked = [c for c in RAW_CONTROLS if c in text]
    assert not leaked, f"raw control bytes {leaked!r} reached the terminal: {text!r}"
    for escaped in shown:
        assert escaped in text, f"{escaped!r} not shown in {text!r}"


@pytest.fixture
def server(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[PageServer]:
    with page_server() as srv:
        monkeypatch.setenv("MONITOR_MIRRORS", f"https://cn.nytimes.com/={srv.base}")
        # A target is needed for alerts to have deliveries; --no-notify never sends.
        monkeypatch.setenv("MONITOR_NOTIFY", "json://127.0.0.1:1/hook")
        config = tmp_path / "monitor.toml"
        config.write_text("[fetch]\nper_host_delay_s = 0\nbackoff_s = 0.01\nretries = 0\n")
        monkeypatch.setenv("MONITOR_CONFIG", str(config))
        yield srv


def _snapshots(directory: Path) -> None:
    """Two snapshot files: one whose title line carries escape sequences, one whose
    URL path does."""
    directory.mkdir()
    snap, _ = read_file(BIDEN_OLD)
    hostile = Snapshot(snap.ts, HOSTILE_TITLE, HOSTILE_URL, snap.html)
    odd = Snapshot(snap.ts, "odd path", ODD_URL, snap.html)
    (directory / "hostile.md").write_text(hostile.render(), encoding="utf-8")
    (directory / "odd.md").write_text(odd.render(), encoding="utf-8")


def test_hostile_titles_and_urls_are_escaped_on_the_terminal(
    cli: CliRunner, server: PageServer, tmp_path: Path
) -> None:
    _snapshots(tmp_path / "snaps")
    imported = run(cli, "import", str(tmp_path / "snaps"))
    assert imported.exit_code == 0, imported.output
    assert "2 new versions" in imported.output

    # The live page is an edit of the article, still under the hostile title.
    edited = dataclasses.replace(load_article(BIDEN_NEW), title=HOSTILE_TITLE, url=HOSTILE_URL)
    server.routes[HOSTILE_PATH] = Route(body=nyt_page(edited).encode())

    checked = run(cli, "check", "--all", "--no-notify")
    assert f"changed (body)  {HOSTILE_URL}" in checked.stdout
    _assert_inert(checked, SHOWN_ODD)  # the odd article's outcome line names its URL

    listed = run(cli, "list")
    assert listed.exit_code == 0
    _assert_inert(listed, SHOWN_TITLE, SHOWN_ODD)

    history = run(cli, "history", HOSTILE_URL)
    assert history.exit_code == 0
    _assert_inert(history, SHOWN_TITLE)
    # The title line and both versions (imported, then fetched) show the title escaped.
    assert _printed(history).count(SHOWN_TITLE) == 3

    odd_history = run(cli, "history", "2")
    assert odd_history.exit_code == 0
    _assert_inert(odd_history, SHOWN_ODD)

    outbox = run(cli, "outbox")
    assert outbox.exit_code == 0
    assert "pending" in outbox.stdout  # the change alert's subject carries the title
    _assert_inert(outbox, SHOWN_TITLE)

    status = run(cli, "status")
    assert "articles" in status.stdout
    _assert_inert(status)
