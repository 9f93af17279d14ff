"""`monitor list`: a header row, columns aligned by display width, why articles fail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner
from wcwidth import wcwidth

from monitor.storage.database import Store
from support.cli import run
from support.corpus import COMMITTED

UNTITLED = "https://example.org/news/never-fetched"
ALWAYS_FILLED = ("ID", "VERSIONS", "STATE", "CHANGED", "CHECKED", "NEXT", "TITLE", "URL")


def _cells(line: str) -> list[str]:
    """The line as terminal cells: a wide character fills two (the second is '')."""
    cells: list[str] = []
    for char in line:
        cells.append(char)
        if wcwidth(char) == 2:
            cells.append("")
    return cells


def _starts(header: str) -> dict[str, int]:
    cells = _cells(header)
    return {
        name: next(
            i
            for i in range(len(cells))
            if "".join(cells[i : i + len(name)]) == name and (i == 0 or cells[i - 1] == " ")
        )
        for name in header.split()
    }


def _listing(cli: CliRunner, state_dir: Path) -> list[str]:
    assert run(cli, "import", str(COMMITTED)).exit_code == 0
    store = Store.open(state_dir)
    try:
        with store.write():
            store.ensure_article(UNTITLED, 1_000)
    finally:
        store.close()
    conn = sqlite3.connect(state_dir / "monitor.db")
    with conn:
        conn.execute(
            "UPDATE articles SET failures = 3, last_error = 'HTTP 503 Service Unavailable' "
            "WHERE url = ?",
            (UNTITLED,),
        )
    conn.close()
    result = run(cli, "list")
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_list_columns_line_up_with_chinese_titles(cli: CliRunner, state_dir: Path) -> None:
    header, *rows = _listing(cli, state_dir)
    assert header.split() == [
        "ID",
        "VERSIONS",
        "STATE",
        "CHANGED",
        "CHECKED",
        "NEXT",
        "ERROR",
        "TITLE",
        "URL",
    ]
    assert len(rows) == 9
    assert any(any(wcwidth(c) == 2 for c in row) for row in rows)  # CJK titles are there
    starts = _starts(header)
    for row in rows:
        cells = _cells(row)
        for name, column in starts.items():
            if column:
                assert cells[column - 1] == " ", (name, row)
            if name in ALWAYS_FILLED:
                assert cells[column] not in (" ", ""), (name, row)
        url = "".join(cells[starts["URL"] :])
        assert url.startswith("https://"), row


def test_list_says_due_why_failing_and_never_shows_an_empty_title(
    cli: CliRunner, state_dir: Path
) -> None:
    header, *rows = _listing(cli, state_dir)
    starts = _starts(header)

    def cell(row: str, name: str) -> str:
        cells = _cells(row)
        names = list(starts)
        end = starts[names[names.index(name) + 1]] if name != "URL" else len(cells)
        return "".join(cells[starts[name] : end]).strip()

    untitled = next(r for r in rows if r.endswith(UNTITLED))
    assert cell(untitled, "STATE") == "failing (3)"
    assert cell(untitled, "ERROR") == "HTTP 503 Service Unavailable"
    assert cell(untitled, "TITLE") == UNTITLED  # no title yet: the URL stands in
    assert cell(untitled, "NEXT") == "due"
    others = [r for r in rows if r is not untitled]
    assert all(cell(r, "NEXT") == "due" and cell(r, "ERROR") == "" for r in others)
    assert all(cell(r, "TITLE") for r in rows)


def test_a_paused_failing_article_shows_as_paused(cli: CliRunner, state_dir: Path) -> None:
    before = [line for line in _listing(cli, state_dir) if line.endswith(UNTITLED)]
    assert "failing" in before[0]  # what pausing must override
    assert run(cli, "pause", UNTITLED).exit_code == 0
    listed = run(cli, "list").stdout.splitlines()
    [row] = [line for line in listed if line.endswith(UNTITLED)]
    assert " paused " in row and "failing" not in row and "503" not in row
