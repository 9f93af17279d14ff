"""Articles on a local server that a test edits: it remembers every edit made, and
reads back from the database what the monitor recorded of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from monitor.article import Article, Block
from monitor.snapshot import Snapshot, read_file
from support.corpus import BIDEN_OLD, load_article
from support.daemon import query
from support.pages import nyt_page
from support.server import PageServer, Route


class Newsroom:
    """Articles on a local server that the test edits; it remembers every edit made."""

    def __init__(self, server: PageServer, work: Path, count: int, slug: str) -> None:
        self.slug = slug
        self.server = server
        self.work = work
        self.base = load_article(BIDEN_OLD)
        self.edits: list[list[str]] = [[] for _ in range(count)]
        seeds = work / "seeds"
        seeds.mkdir(parents=True, exist_ok=True)
        snap, _ = read_file(BIDEN_OLD)
        for i in range(count):
            (seeds / f"a{i}.md").write_text(
                Snapshot(snap.ts, snap.title, self.url(i), snap.html).render(), encoding="utf-8"
            )
            self.publish(i)

    @property
    def state(self) -> Path:
        return self.work / "state"

    @property
    def env(self) -> dict[str, str]:
        return {"MONITOR_MIRRORS": f"https://cn.nytimes.com/={self.server.base}"}

    def url(self, i: int) -> str:
        return f"https://cn.nytimes.com/usa/20240701/{self.slug}-article-{i}/"

    def path(self, i: int) -> str:
        return f"/usa/20240701/{self.slug}-article-{i}/"

    def page(self, i: int) -> bytes:
        extra = tuple(Block("p", marker) for marker in self.edits[i])
        article: Article = dataclasses.replace(
            self.base, url=self.url(i), body=self.base.body + extra
        )
        return nyt_page(article).encode()

    def publish(self, i: int) -> None:
        self.server.routes[self.path(i)] = Route(body=self.page(i))

    def edit(self, i: int) -> None:
        self.edits[i].append(f"第{i}篇文章的第{len(self.edits[i]) + 1}次编辑。")
        self.publish(i)

    def recorded(self, i: int) -> int:
        rows = query(self.state, "SELECT versions_count FROM articles WHERE url = ?", self.url(i))
        return int(rows[0][0]) if rows else 0

    def all_recorded(self) -> bool:
        return all(self.recorded(i) == 1 + len(e) for i, e in enumerate(self.edits))

    def article_id(self, i: int) -> int:
        [(article_id,)] = query(self.state, "SELECT id FROM articles WHERE url = ?", self.url(i))
        return int(article_id)
