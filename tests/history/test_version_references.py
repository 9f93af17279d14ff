"""Version references (vN, latest, latest~K, keys, ISO dates), show --text, and diff
of removals, through the CLI on a real state directory."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.history.recording import record_removal
from monitor.snapshot import read_file
from monitor.storage.database import Store
from support.cli import run
from support.corpus import BIDEN_NEW, BIDEN_OLD

BIDEN = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"
V1, V2 = read_file(BIDEN_OLD)[0].ts, read_file(BIDEN_NEW)[0].ts


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time 8 hours off UTC, so a naive time read as UTC would pick wrongly."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def biden(cli: CliRunner) -> CliRunner:
    result = run(cli, "import", str(BIDEN_OLD), str(BIDEN_NEW))
    assert result.exit_code == 0, result.output
    return cli


def _shown_key(cli: CliRunner, ref: str) -> int:
    result = run(cli, "show", BIDEN, "--at", ref)
    assert result.exit_code == 0, result.output
    return read_file_text(result.output)


def read_file_text(text: str) -> int:
    first = text.splitlines()[0]
    assert first.startswith("<!--") and first.endswith("-->"), first
    return int(first[4:-3])


def _error(cli: CliRunner, *args: str) -> str:
    result = run(cli, *args)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_history_numbers_versions_oldest_first(biden: CliRunner) -> None:
    data = json.loads(run(biden, "history", BIDEN, "--json").output)
    assert [(h["n"], h["ts"]) for h in data] == [(1, V1), (2, V2)]
    text = run(biden, "history", BIDEN).output
    header, first, second = text.splitlines()[2:5]
    assert header.split()[:2] == ["V", "KEY"]
    assert first.split()[:2] == ["v1", str(V1)] and second.split()[:2] == ["v2", str(V2)]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("v1", V1),
        ("V2", V2),
        ("latest", V2),
        ("latest~1", V1),
        (str(V1), V1),
        ("2024-07-05", V1),  # a date between the two versions: the one current then
        ("20240705", V1),  # the same date in ISO 8601's basic form, not a key
        ("2024-07-05T12:00:00+08:00", V1),
        ("2030-01-01", V2),
    ],
)
def test_show_at_each_form_of_reference(biden: CliRunner, ref: str, expected: int) -> None:
    assert _shown_key(biden, ref) == expected


def test_a_time_without_offset_is_local_time(biden: CliRunner, shanghai: None) -> None:
    moment = datetime.fromtimestamp(V2 / 1000)  # naive, in the local zone (UTC+8)
    assert _shown_key(biden, moment.isoformat()) == V2
    before = datetime.fromtimestamp(V2 / 1000 - 1)
    assert _shown_key(biden, before.isoformat(timespec="seconds")) == V1


def test_references_that_match_nothing_say_which_versions_exist(biden: CliRunner) -> None:
    assert _error(biden, "show", BIDEN, "--at", "v9") == (
        "error: no version v9: this article has v1–v2"
    )
    assert "this article has v1–v2" in _error(biden, "show", BIDEN, "--at", "latest~2")
    assert "this article has v1–v2" in _error(biden, "show", BIDEN, "--at", str(V1 + 1))
    early = _error(biden, "diff", BIDEN, "--from", "2020-01-01")
    assert early.startswith("error: no version at 2020-01-01: this article has v1–v2")
    assert "expected vN, latest" in _error(biden, "diff", BIDEN, "--to", "yesterday")


def test_diff_accepts_references_on_both_sides(biden: CliRunner) -> None:
    by_number = run(biden, "diff", BIDEN, "--from", "v1", "--to", "v2", "--format", "json")
    by_key = run(biden, "diff", BIDEN, "--from", str(V1), "--to", "latest", "--format", "json")
    assert by_number.exit_code == 0, by_number.output
    assert json.loads(by_number.output) == json.loads(by_key.output)
    assert json.loads(by_number.output)["kinds"] == ["body"]
    backwards = json.loads(
        run(biden, "diff", BIDEN, "--from", "latest", "--to", "latest~1", "--format", "json").output
    )
    assert backwards["kinds"] == ["body"]


def test_show_text_is_readable(biden: CliRunner) -> None:
    result = run(biden, "show", BIDEN, "--text", "--at", "v1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "如何挽回一场失败的辩论？拜登团队的疯狂48小时"
    assert lines[1] == "LISA LERER, SHANE GOLDMACHER, KATIE ROGERS"
    assert BIDEN in lines and any(line.startswith("v1 of 2, first seen") for line in lines)
    assert "<p>" not in result.output and "<!--" not in result.output
    assert "周五晚上在纽约，在一场有奥马巴参与" in result.output  # the text of v1
    assert "## 推销“东山再起之人”" in lines  # a sub-head


def _remove(state_dir: Path, url: str, ts: int) -> None:
    store = Store.open(state_dir)
    try:
        with store.write():
            record_removal(store, store.resolve(url).id, ts)
    finally:
        store.close()


def test_diff_to_a_removal(biden: CliRunner, state_dir: Path) -> None:
    _remove(state_dir, BIDEN, V2 + 1000)
    result = run(biden, "diff", BIDEN, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["kinds"] == ["removed"] and data["chars_removed"] > 1000
    assert data["chars_added"] == 0
    assert "(removed)" in run(biden, "show", BIDEN, "--text").output
    # The removal is v3; the text versions before it still diff.
    assert json.loads(run(biden, "diff", BIDEN, "--to", "latest~1", "--format", "json").output)[
        "kinds"
    ] == ["body"]


def test_diff_of_an_article_only_ever_seen_removed(cli: CliRunner, state_dir: Path) -> None:
    url = "https://example.org/news/gone"
    store = Store.open(state_dir)
    try:
        with store.write():
            article_id, _ = store.ensure_article(url, 1_000)
            record_removal(store, article_id, 2_000)
    finally:
        store.close()
    result = run(cli, "diff", url, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["kinds"] == ["removed"]
    text = run(cli, "diff", url, "--format", "text")
    assert text.exit_code == 0 and "(no text changed)" in text.output
