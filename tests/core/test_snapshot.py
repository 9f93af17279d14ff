from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import SnapshotError
from monitor.snapshot import MAX_FILE_BYTES, Snapshot, parse, read_file
from support.corpus import all_corpus_files, committed_files

GOOD = "<!--1689302222000-->\n[标题](https://cn.nytimes.com/china/20230714/x/)\n------\n\n<p>正文</p>\n"


@pytest.mark.parametrize("path", all_corpus_files(), ids=lambda p: p.name[:20])
def test_render_of_parse_is_byte_identical(path: Path) -> None:
    snap, text = read_file(path)
    assert snap.render().encode("utf-8") == path.read_bytes()
    assert text == path.read_text(encoding="utf-8")


def test_committed_files_are_covered_without_the_shared_corpus() -> None:
    assert len(committed_files()) >= 10


def test_fields() -> None:
    snap = parse(GOOD)
    assert snap == Snapshot(
        1689302222000, "标题", "https://cn.nytimes.com/china/20230714/x/", "<p>正文</p>"
    )


def test_title_with_brackets() -> None:
    text = GOOD.replace("[标题]", "[a [b] (c) d]")
    assert parse(text).title == "a [b] (c) d"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "empty"),
        ("   \n", 1, "empty"),
        (GOOD.replace("<!--1689302222000-->", "<!--abc-->"), 1, "timestamp"),
        (GOOD.replace("<!--1689302222000-->\n", ""), 1, "timestamp"),
        (GOOD.replace("(https://cn.nytimes.com/china/20230714/x/)", "(ftp://x)"), 2, "URL"),
        (GOOD.replace("(https://cn.nytimes.com/china/20230714/x/)", "(notaurl)"), 2, "URL"),
        (GOOD.replace("[标题](", "标题("), 2, "[title](url)"),
        (GOOD.replace("------", "-----"), 3, "underline"),
        (GOOD.replace("------\n\n", "------\nx\n"), 4, "empty line"),
        (GOOD.replace("<p>正文</p>\n", "\n"), 5, "HTML"),
        (GOOD.rstrip("\n"), 5, "final newline"),
        (GOOD + "<p>more</p>\n", 6, "one line"),
        ("<!--1-->\n", 2, "[title](url)"),
    ],
)
def test_malformed_is_one_clear_error(text: str, line: int, fragment: str) -> None:
    with pytest.raises(SnapshotError) as info:
        parse(text, "f.md")
    assert info.value.line == line
    assert fragment in info.value.message
    assert str(info.value).startswith(f"f.md:{line}: ")
    assert "\n" not in str(info.value)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(SnapshotError, match="binary"):
        read_file(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.md"
    path.write_bytes(GOOD.encode("gbk"))
    with pytest.raises(SnapshotError, match="UTF-8") as info:
        read_file(path)
    assert info.value.line == 2


def test_huge_file_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(SnapshotError, match="too large"):
        read_file(path)
