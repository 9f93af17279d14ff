"""What `monitor check` prints: one line per article, a closing summary, the line for
a pass with nothing due, and a progress bar that never shares a line with a result."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from monitor.clock import now_ms
from monitor.runner.check_report import PassTally, due_time, nothing_due
from support.cli import run
from support.corpus import ROOT
from support.server import PageServer, Route
from support.sites import db_rows, serve

NEXT_DUE = r"next due (\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d)"
NOW = 1_700_000_000_000
MINUTE = 60_000


def _summary(stdout: str) -> str:
    return stdout.splitlines()[-1]


def test_the_summary_counts_every_outcome(
    cli: CliRunner, site: PageServer, state_dir: Path
) -> None:
    urls = {
        name: serve(site, f"/{name}", name.title(), f"The {name} article.", "More text here.")
        for name in ("same", "edited", "gone", "broken")
    }
    run(cli, "add", *urls.values())
    first = run(cli, "check", "--all")
    assert first.exit_code == 0, first.output
    assert re.fullmatch(rf"checked 4: 4 new; {NEXT_DUE}", _summary(first.stdout)), first.stdout

    serve(site, "/edited", "Edited", "The edited article.", "More text, changed here.")
    site.routes.pop("/gone")
    site.routes["/broken"] = Route(status=500, body=b"down")
    second = run(cli, "check", "--all")
    assert second.exit_code == 0, second.output
    assert len(second.stdout.splitlines()) == 5  # four results, then the summary
    assert re.fullmatch(
        rf"checked 4: 1 changed, 1 missing, 1 error, 1 unchanged; {NEXT_DUE}",
        _summary(second.stdout),
    ), second.stdout

    third = run(cli, "check", "--all", "--json")
    assert third.exit_code == 0, third.output
    assert len(third.stdout.splitlines()) == 4  # JSON only: the summary is on stderr
    assert re.fullmatch(
        rf"checked 4: 1 removed, 1 error, 2 unchanged; {NEXT_DUE}",
        third.stderr.splitlines()[-1],
    ), third.stderr

    states = dict(db_rows(state_dir, "SELECT url, state FROM articles"))
    assert states[urls["gone"]] == "removed"
    failures = dict(db_rows(state_dir, "SELECT url, failures FROM articles"))
    assert failures[urls["broken"]] == 2
    versions = dict(db_rows(state_dir, "SELECT url, versions_count FROM articles"))
    assert versions == {urls["same"]: 1, urls["edited"]: 2, urls["gone"]: 2, urls["broken"]: 1}


def test_nothing_due_says_when_the_next_check_is(
    cli: CliRunner, site: PageServer, state_dir: Path
) -> None:
    url = serve(site, "/a", "Once", "Checked once.", "Then not due.")
    run(cli, "add", url)
    run(cli, "check")
    [(next_check,)] = db_rows(state_dir, "SELECT next_check_at FROM articles")
    idle = run(cli, "check")
    assert idle.exit_code == 0
    assert idle.stdout.splitlines() == [
        f"nothing due (next at {due_time(next_check, now_ms())}; --all checks everything)"
    ]
    assert site.hits == ["/a"]

    run(cli, "pause", url)
    assert run(cli, "check").stdout == "nothing due (no article is being watched)\n"


def test_summary_wording() -> None:
    tally = PassTally()
    assert tally.summary(None, NOW) == "checked 0; no further checks scheduled"
    tally.skipped = 2
    assert tally.summary(NOW - 1, NOW) == (
        "checked 0: 2 skipped (being checked elsewhere); next due now"
    )
    assert nothing_due(None, NOW) == "nothing due (no article is being watched)"
    assert re.fullmatch(r"\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d", due_time(NOW + MINUTE, NOW))
    assert due_time(NOW + 3 * 24 * 60 * MINUTE, NOW).count("-") == 2  # another day: dated


# -- the progress bar on a terminal ---------------------------------------------------


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stdout and stderr on one pseudo-terminal, as in an interactive shell;
    everything written to it, raw."""
    main, child = pty.openpty()
    process = subprocess.Popen(args, stdout=child, stderr=child, stdin=subprocess.DEVNULL, env=env)
    os.close(child)
    chunks: list[bytes] = []

    def read_all() -> None:
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=180)
        reader.join(timeout=60)
    finally:
        os.close(main)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_the_progress_bar_is_cleared_before_each_result_line(
    cli: CliRunner, site: PageServer, state_dir: Path, settings_file: Path
) -> None:
    urls = [
        serve(site, f"/p{n}", f"Page {n}", f"Paragraph of page {n}.", "More.") for n in range(6)
    ]
    run(cli, "add", *urls)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "monitor", "--state-dir", str(state_dir)]
    code, raw = _run_on_a_terminal([*command, "--config", str(settings_file), "check"], env)
    assert code == 0, raw
    assert "checking [" in raw  # the bar was drawn
    # What a reader sees of each line: what is left after the last clear of the line.
    seen = [line.rsplit("\x1b[K", 1)[-1].rstrip("\r") for line in raw.split("\n")]
    seen = [line for line in seen if line]
    assert sorted(seen[:-1]) == sorted(f"new  {url}" for url in urls), raw
    assert re.fullmatch(rf"checked 6: 6 new; {NEXT_DUE}", seen[-1]), raw
    assert all("checking [" not in line for line in seen), raw


def test_a_bad_reference_in_check_is_named_and_the_others_are_checked(
    cli: CliRunner, site: PageServer
) -> None:
    url = serve(site, "/good", "Good", "Checked all the same.")
    run(cli, "add", url)
    result = run(cli, "check", "nope", url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no article 'nope'")
    assert result.stdout.startswith(f"new  {url}")
