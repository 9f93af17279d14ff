"""`monitor export` writes its files safely in a directory others can write to: a link
planted under the name of a file it writes is replaced, never written through; a file
is written whole; no temporary file is left behind."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from monitor.snapshot import read_file
from support.cli import run
from support.corpus import BIDEN_NEW, BIDEN_OLD, YEN_OLD

VICTIM_TEXT = b"the victim's own content\n"


def _name(article_id: int, source: Path) -> str:
    snap, _ = read_file(source)
    return f"{article_id:06d}_{snap.ts}.md"


def test_export_replaces_planted_links_and_writes_whole_files(
    cli: CliRunner, tmp_path: Path
) -> None:
    imported = run(cli, "import", str(BIDEN_OLD), str(BIDEN_NEW), str(YEN_OLD))
    assert imported.exit_code == 0, imported.output
    # Article 1 is the Biden article (two versions), article 2 the yen article.
    expected = {
        _name(1, BIDEN_OLD): BIDEN_OLD.read_bytes(),
        _name(1, BIDEN_NEW): BIDEN_NEW.read_bytes(),
        _name(2, YEN_OLD): YEN_OLD.read_bytes(),
    }
    out = tmp_path / "export"
    out.mkdir()
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()

    victim = elsewhere / "victim"
    victim.write_bytes(VICTIM_TEXT)
    (out / _name(1, BIDEN_OLD)).symlink_to(victim)
    never_created = elsewhere / "created-through-a-dangling-link"
    (out / _name(1, BIDEN_NEW)).symlink_to(never_created)
    hard_victim = elsewhere / "hard-linked"
    hard_victim.write_bytes(VICTIM_TEXT)
    os.link(hard_victim, out / _name(2, YEN_OLD))

    result = run(cli, "export", "--all", str(out))
    assert result.exit_code == 0, result.output
    assert "3 snapshot files written" in result.output

    for name, data in expected.items():
        path = out / name
        assert not path.is_symlink(), f"{name} is still a link"
        assert path.is_file()
        assert path.read_bytes() == data, name
    assert victim.read_bytes() == VICTIM_TEXT  # not written through the link
    assert not never_created.exists()  # nor created through a dangling one
    assert hard_victim.read_bytes() == VICTIM_TEXT  # nor through a hard link's inode
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)  # no temporary files
    assert sorted(p.name for p in elsewhere.iterdir()) == ["hard-linked", "victim"]


def test_export_overwrites_existing_files_whole(cli: CliRunner, tmp_path: Path) -> None:
    assert run(cli, "import", str(BIDEN_OLD), str(BIDEN_NEW)).exit_code == 0
    out = tmp_path / "export"
    out.mkdir()
    old_name, new_name = _name(1, BIDEN_OLD), _name(1, BIDEN_NEW)
    # One file longer than its snapshot (a write without truncation leaves its tail),
    # and one already correct (a second export of the same history).
    (out / old_name).write_bytes(b"x" * (len(BIDEN_OLD.read_bytes()) * 2))
    (out / new_name).write_bytes(BIDEN_NEW.read_bytes())

    for _ in range(2):
        result = run(cli, "export", "--all", str(out))
        assert result.exit_code == 0, result.output
        assert (out / old_name).read_bytes() == BIDEN_OLD.read_bytes()
        assert (out / new_name).read_bytes() == BIDEN_NEW.read_bytes()
        assert sorted(p.name for p in out.iterdir()) == sorted([old_name, new_name])
