"""`monitor check --all --json | head -1`: the reader goes away mid-pass. The pass ends
cleanly: what was checked is recorded, no claim is left behind, exit status 1, no
traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from click.testing import CliRunner

from support.cli import run
from support.corpus import ROOT
from support.server import PageServer, Route
from support.sites import SETTINGS, article_page, db_rows, serve

DEADLINE_S = 180.0  # for processes on a loaded machine; nothing here sleeps
HELD = 5


class HeldPage:
    """A page answered only once `release` is set (or the test ends)."""

    def __init__(self, body: bytes, release: threading.Event) -> None:
        self.body, self.release = body, release

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        self.release.wait(DEADLINE_S)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(self.body)))
        handler.end_headers()
        handler.wfile.write(self.body)


def test_a_closed_pipe_ends_the_pass_cleanly(
    cli: CliRunner, site: PageServer, state_dir: Path, settings_file: Path, tmp_path: Path
) -> None:
    # The held pages must not time out before head has gone, however loaded the machine.
    settings_file.write_text(
        SETTINGS.replace("timeout_s = 20", "timeout_s = 150\ntotal_timeout_s = 170")
    )
    first = serve(site, "/first", "First", "Answered at once.", "Printed, read by head.")
    release = threading.Event()
    held = []
    for n in range(HELD):
        path = f"/held{n}"
        body = article_page(f"Held {n}", f"Answered after head has gone ({n}).", "More.")
        site.routes[path] = Route(custom=HeldPage(body, release))
        held.append(site.base + path.lstrip("/"))
    assert run(cli, "add", first, *held).exit_code == 0

    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "monitor", "--state-dir", str(state_dir)]
    command += ["--config", str(settings_file), "check", "--all", "--json"]
    errors = tmp_path / "stderr.txt"
    try:
        with errors.open("wb") as stderr:
            monitor = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=env)
            assert monitor.stdout is not None
            head = subprocess.Popen(["head", "-1"], stdin=monitor.stdout, stdout=subprocess.PIPE)
            monitor.stdout.close()  # head alone reads the pipe: its exit closes it
            shown, _ = head.communicate(timeout=DEADLINE_S)
            # head has read one line and gone; now the held pages answer.
            release.set()
            code = monitor.wait(timeout=DEADLINE_S)
    finally:
        release.set()
    said = errors.read_text()
    assert code == 1, said
    assert "Traceback" not in said and "Exception ignored" not in said, said
    assert said == "error: output closed: the pass stopped (what was checked is recorded)\n"
    result = json.loads(shown)
    assert (result["url"], result["outcome"]) == (first, "new")

    # What was checked is recorded: the first page, and the result whose printing
    # found the pipe closed (recorded before it was printed).
    checked = db_rows(
        state_dir,
        "SELECT url FROM articles WHERE last_check_at IS NOT NULL AND versions_count = 1",
    )
    assert first in {url for (url,) in checked} and len(checked) >= 2, checked
    assert db_rows(state_dir, "SELECT count(*) FROM articles WHERE claimed_until IS NOT NULL") == [
        (0,)
    ]
    # Those not reached are untouched and still due.
    assert db_rows(
        state_dir,
        "SELECT count(*) FROM articles WHERE last_check_at IS NULL AND next_check_at = 0",
    ) == [(1 + HELD - len(checked),)]
