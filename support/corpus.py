"""The snapshot files the tests read: committed in the repository, or the shared corpus."""

from __future__ import annotations

from pathlib import Path

from monitor.article import Article
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
