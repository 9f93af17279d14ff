"""Small hand-built articles, and a diff full of hostile text."""

from __future__ import annotations

from monitor.article import Article, Block
from monitor.diffing.diff import ArticleDiff, diff_articles
from monitor.diffing.render import DiffHeader


def art(*paragraphs: str, **fields: str) -> Article:
    """An article of plain paragraphs; title, byline, pudate and footer can be given."""
    return Article(
        title=fields.get("title", "标题"),
        byline=fields.get("byline", "A B"),
        pudate=fields.get("pudate", "2024-01-01 00:00:00"),
        body=tuple(Block("p", p) for p in paragraphs),
        footer=(fields.get("footer", "翻译：纽约时报中文网"),),
    )


HOSTILE = (
    "<script>alert(1)</script> **b** _i_ `c` [x](javascript:alert(1)) "
    "\x1b[2J\x1b]0;owned\x07 \r\u202egnp.exe | # > "
)


def hostile_diff() -> tuple[DiffHeader, ArticleDiff]:
    """One edit in a huge paragraph full of HOSTILE text, under a title that tries to
    start a new header line."""
    long_line = "长" * 100_000
    title = "标题\r\nBcc: x@evil.test\x1b[31m"
    old = art(long_line + HOSTILE + " 旧 " + long_line, title=title)
    new = art(long_line + HOSTILE + " 新 " + long_line, title=title)
    header = DiffHeader(old.title, "https://cn.nytimes.com/a_(b)/", 1, 2, "x", "x")
    return header, diff_articles(old, new)
