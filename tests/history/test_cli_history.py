from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from monitor.snapshot import Snapshot, read_file
from support.cli import run
from support.corpus import BIDEN_NEW, BIDEN_OLD, COMMITTED, SEEDS, YEN_NEW, YEN_OLD

BIDEN = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"


def _history(cli: CliRunner, ref: str) -> list[dict[str, object]]:
    result = run(cli, "history", ref, "--json")
    assert result.exit_code == 0, result.output
    data: list[dict[str, object]] = json.loads(result.output)
    return data


def test_import_then_history_diff_show(cli: CliRunner, state_dir: Path) -> None:
    result = run(cli, "import", str(COMMITTED), str(SEEDS))
    assert result.exit_code == 0, result.output
    assert "13 files read, 13 new versions" in result.output
    assert (state_dir / "monitor.db").is_file()

    history = _history(cli, BIDEN + "dual/?utm_source=RSS")
    assert [h["kinds"] for h in history] == [["first"], ["body"]]
    assert history[1]["chars_added"] == 4 and history[1]["chars_removed"] == 5
    assert {"ts", "title", "kinds", "chars_added", "chars_removed"} <= set(history[0])

    diff = run(cli, "diff", BIDEN, "--format", "json")
    data = json.loads(diff.output)
    assert data["kinds"] == ["body"]
    assert [c["section"] for c in data["changes"]] == ["body", "body"]
    assert data["pudate"] == {"from": "2024-07-01 12:28:45", "to": "2024-07-10 03:34:27"}

    yen = json.loads(
        run(
            cli,
            "diff",
            "https://cn.nytimes.com/asia-pacific/20240709/japan-yen-defense-spending/",
            "--format",
            "json",
        ).output
    )
    assert yen["kinds"] == ["footer"]

    for path in (BIDEN_OLD, BIDEN_NEW):
        snap, _ = read_file(path)
        shown = run(cli, "show", BIDEN, "--at", str(snap.ts))
        assert shown.output.encode() == path.read_bytes()
    assert run(cli, "show", BIDEN).output.encode() == BIDEN_NEW.read_bytes()


def test_reimport_adds_nothing(cli: CliRunner, state_dir: Path) -> None:
    run(cli, "import", str(COMMITTED))
    before = _dump(state_dir)
    again = run(cli, "import", str(COMMITTED))
    assert "0 new versions" in again.output and "12 already imported" in again.output
    assert _dump(state_dir) == before


def _dump(state_dir: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(state_dir / "monitor.db")
    rows = []
    for table in ("articles", "versions", "changes", "observations", "blobs"):
        rows += [(table, *r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
    conn.close()
    return rows


def test_out_of_order_import_gives_the_right_succession(cli: CliRunner, tmp_path: Path) -> None:
    run(cli, "import", str(BIDEN_NEW))
    run(cli, "import", str(BIDEN_OLD))
    assert [h["kinds"] for h in _history(cli, BIDEN)] == [["first"], ["body"]]


def _variant(tmp_path: Path, source: Path, ts: int, name: str, **replace: str) -> Path:
    snap, _ = read_file(source)
    html = snap.html
    for old, new in replace.items():
        assert old in html
        html = html.replace(old, new)
    path = tmp_path / name
    path.write_text(Snapshot(ts, snap.title, snap.url, html).render(), encoding="utf-8")
    return path


def test_duplicates_metadata_and_revert(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    a = _variant(folder, BIDEN_OLD, 1_000, "a.md")
    _variant(folder, BIDEN_OLD, 2_000, "a_again.md")  # same text, same pudate: no version
    _variant(folder, BIDEN_OLD, 3_000, "b.md", **{"奥马巴参与": "奥巴马参与"})
    _variant(folder, BIDEN_OLD, 4_000, "a2.md")  # back to A
    _variant(folder, BIDEN_OLD, 5_000, "meta.md", **{"2024-07-01 12:28:45": "2024-07-02 00:00:00"})
    # Whitespace-only difference to the previous version: not a version.
    _variant(
        folder,
        BIDEN_OLD,
        6_000,
        "ws.md",
        **{
            "</time>": "</time>  \u3000 ",
            "周五晚上": "周五 晚上",
            "2024-07-01 12:28:45": "2024-07-02 00:00:00",
        },
    )
    result = run(cli, "import", str(folder))
    assert "6 files read, 4 new versions, 2 duplicates" in result.output
    history = _history(cli, BIDEN)
    assert [h["ts"] for h in history] == [1_000, 3_000, 4_000, 5_000]
    assert [h["kinds"] for h in history] == [["first"], ["body"], ["body", "revert"], ["metadata"]]
    assert a.exists()


def test_inserting_a_duplicate_before_its_twin_demotes_the_later_copy(
    cli: CliRunner, tmp_path: Path
) -> None:
    later = _variant(tmp_path, BIDEN_OLD, 9_000, "later.md")
    b = _variant(tmp_path, BIDEN_OLD, 5_000, "b.md", **{"奥马巴参与": "奥巴马参与"})
    earlier = _variant(tmp_path, BIDEN_OLD, 1_000, "earlier.md")
    for path in (later, b, earlier):
        run(cli, "import", str(path))
    assert [h["kinds"] for h in _history(cli, BIDEN)] == [["first"], ["body"], ["body", "revert"]]
    twin = _variant(tmp_path, BIDEN_OLD, 6_000, "twin.md", **{"奥马巴参与": "奥巴马参与"})
    run(cli, "import", str(twin))
    history = _history(cli, BIDEN)
    assert [h["ts"] for h in history] == [1_000, 5_000, 9_000]


def test_bad_files_are_reported_and_the_rest_imported(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(YEN_OLD, folder / "good1.md")
    shutil.copy(YEN_NEW, folder / "good2.md")
    (folder / "empty.md").write_text("")
    (folder / "nots.md").write_text("hello\n[t](https://x.org/a)\n------\n\n<p>x</p>\n")
    (folder / "badurl.md").write_text("<!--1-->\n[t](https://x)\n------\n\n<p>x</p>\n")
    (folder / "bin.md").write_bytes(b"\x00\x01\x02")
    result = run(cli, "import", str(folder))
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 4
    assert any("empty.md:1: file is empty" in e for e in errors)
    assert any("nots.md:1: expected '<!--EPOCH_MS-->'" in e for e in errors)
    assert any("badurl.md:2: bad URL" in e for e in errors)
    assert any("bin.md:1: file is binary" in e for e in errors)
    assert "2 new versions" in result.output
    assert (
        len(
            _history(
                cli, "https://cn.nytimes.com/asia-pacific/20240709/japan-yen-defense-spending/"
            )
        )
        == 2
    )


def test_list_and_errors_for_unknown_articles(cli: CliRunner) -> None:
    run(cli, "import", str(COMMITTED))
    listed = json.loads(run(cli, "list", "--json").output)
    assert len(listed) == 8
    biden = next(a for a in listed if a["url"] == BIDEN)
    assert biden["versions"] == 2 and biden["last_change_ts"] == 1720598821000
    missing = run(cli, "history", "https://cn.nytimes.com/no/such/")
    assert missing.exit_code == 1 and missing.output.count("\n") == 1
    assert "no article" in missing.output
    by_id = run(cli, "history", str(biden["id"]), "--json")
    assert len(json.loads(by_id.output)) == 2
    bad_ts = run(cli, "diff", BIDEN, "--from", "123")
    assert bad_ts.exit_code == 1 and "no version at 123" in bad_ts.output


def test_add_validates_and_is_idempotent(cli: CliRunner, tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# watch these\n{BIDEN}dual/\nhttps://example.org/news/1\n")
    result = run(cli, "add", BIDEN, "ftp://nope", "--from-file", str(listing))
    assert result.exit_code == 1
    assert "2 added, 1 already known, 1 errors" in result.output
    assert "error: 'ftp://nope': not an http(s) URL" in result.output
    again = run(cli, "add", BIDEN + "?utm_source=RSS")
    assert again.exit_code == 0 and "0 added, 1 already known" in again.output


def test_export_reimports_to_the_same_history(
    cli: CliRunner, tmp_path: Path, monkeypatch: object
) -> None:
    run(cli, "import", str(COMMITTED))
    out = tmp_path / "export"
    result = run(cli, "export", "--all", str(out))
    assert "12 snapshot files written" in result.output
    exported = sorted(p.read_bytes() for p in out.iterdir())
    assert exported == sorted(p.read_bytes() for p in COMMITTED.glob("*.md"))
    one = tmp_path / "one"
    assert "2 snapshot files" in run(cli, "export", BIDEN, str(one)).output


def test_commands_without_a_database_fail_cleanly(cli: CliRunner) -> None:
    result = run(cli, "list")
    assert result.exit_code == 1 and "no database" in result.output
