"""`monitor status` says why it is unhealthy and what to do; `run` warns when nobody
would be told of a change."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.runner.lock import DaemonLock
from support.cli import run
from support.corpus import COMMITTED

NO_TARGET = "no notification target configured"


def _fail(state_dir: Path, count: int) -> None:
    conn = sqlite3.connect(state_dir / "monitor.db")
    with conn:
        conn.execute(
            "UPDATE articles SET failures = 2, last_error = 'HTTP 500' WHERE id IN "
            "(SELECT id FROM articles ORDER BY id LIMIT ?)",
            (count,),
        )
    conn.close()


def test_a_new_state_directory_was_never_run(cli: CliRunner, state_dir: Path) -> None:
    result = run(cli, "status")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "unhealthy"
    assert "  problem: daemon never run: start it with monitor run" in lines
    assert any(line.startswith(f"  warning: {NO_TARGET}") for line in lines)
    assert "not running (never run)" in result.output
    assert "None" not in result.output and "pid" not in result.output
    assert not (state_dir / "monitor.db").exists()  # status only reads
    report = json.loads(run(cli, "status", "--json").output)
    assert report["problems"] == ["daemon never run: start it with monitor run"]
    assert report["articles"] == 0 and report["healthy"] is False


def test_a_configured_target_silences_the_warning(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_NOTIFY", "json://127.0.0.1:9/hook")
    report = json.loads(run(cli, "status", "--json").output)
    assert report["warnings"] == []


def test_failing_articles_are_named_with_what_to_do(cli: CliRunner, state_dir: Path) -> None:
    assert run(cli, "import", str(COMMITTED)).exit_code == 0
    _fail(state_dir, 2)
    report = json.loads(run(cli, "status", "--json").output)
    # A few pages failing is a warning: the web as usual.
    assert "2 of 8 articles failing: see monitor list" in report["warnings"]
    assert report["problems"] == ["daemon never run: start it with monitor run"]
    _fail(state_dir, 6)
    result = run(cli, "status")
    assert result.exit_code == 1
    assert "  problem: 6 of 8 articles failing: see monitor list" in result.output.splitlines()
    assert "articles     8 (8 due, 6 failing)" in result.output


def test_failing_counts_against_the_watched_articles_only(cli: CliRunner, state_dir: Path) -> None:
    """Two watched articles, both failing, beside six removed ones: that is all the
    monitor still checks failing, a problem, not a few pages of many."""
    assert run(cli, "import", str(COMMITTED)).exit_code == 0
    conn = sqlite3.connect(state_dir / "monitor.db")
    with conn:
        conn.execute(
            "UPDATE articles SET watch = 'unwatched' WHERE id NOT IN "
            "(SELECT id FROM articles ORDER BY id LIMIT 2)"
        )
    conn.close()
    _fail(state_dir, 2)
    report = json.loads(run(cli, "status", "--json").output)
    assert "2 of 2 articles failing: see monitor list" in report["problems"]
    assert report["articles"] == 8 and report["watched"] == 2


def test_given_up_notifications_are_a_problem(cli: CliRunner, state_dir: Path) -> None:
    assert run(cli, "import", str(COMMITTED)).exit_code == 0
    conn = sqlite3.connect(state_dir / "monitor.db")
    with conn:
        for alert_id in (1, 2, 3):
            conn.execute(
                "INSERT INTO alerts (id, article_id, created_at, event, kinds, subject, "
                "markdown, html) VALUES (?, 1, 0, 'change', '[\"body\"]', 's', 'm', 'h')",
                (alert_id,),
            )
            conn.execute(
                "INSERT INTO deliveries (alert_id, target, state, next_attempt_at) "
                "VALUES (?, 't', 'failed', 0)",
                (alert_id,),
            )
    conn.close()
    report = json.loads(run(cli, "status", "--json").output)
    assert (
        "3 notifications given up: monitor outbox, then monitor outbox retry"
        in (report["problems"])
    )


def test_run_warns_at_start_without_a_target(cli: CliRunner, state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    lock = DaemonLock(state_dir)
    lock.acquire()  # so this `run` stops right after its start-up checks
    try:
        result = run(cli, "run")
    finally:
        lock.release()
    assert result.exit_code == 1
    assert result.output.startswith(f"warning: {NO_TARGET}")
