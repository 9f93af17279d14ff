from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.article import Article
from monitor.cli import main
from monitor.extraction.feed import article_from_snapshot
from monitor.snapshot import read_file
from monitor.urls import normalize

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
COMMITTED = DATA / "corpus"
SEEDS = ROOT / "seeds"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"

BIDEN_OLD, BIDEN_NEW = COMMITTED / "1042628.md", COMMITTED / "1042597.md"
YEN_OLD, YEN_NEW = COMMITTED / "1042600.md", COMMITTED / "1042532.md"
MENG_OLD, MENG_NEW = COMMITTED / "1047301.md", COMMITTED / "1046447.md"


def committed_files() -> list[Path]:
    return sorted(COMMITTED.glob("*.md")) + sorted(SEEDS.glob("*.txt"))


def all_corpus_files() -> list[Path]:
    """The shared corpus when present, else the files committed in the repo."""
    if SHARED_CORPUS.is_dir():
        return sorted(SHARED_CORPUS.glob("nyt*/*.md")) + sorted(SEEDS.glob("*.txt"))
    return committed_files()


def load_article(path: Path) -> Article:
    snap, _ = read_file(path)
    return article_from_snapshot(snap, normalize(snap.url))


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    state = tmp_path / "state"
    monkeypatch.setenv("MONITOR_STATE_DIR", str(state))
    for var in ("MONITOR_CONFIG", "MONITOR_NOTIFY", "MONITOR_MIRRORS", "STATE_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    yield state


@pytest.fixture
def cli(state_dir: Path) -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args), catch_exceptions=False, env=dict(os.environ))
