"""Snapshot files: the feed's one-line article HTML to the article model."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.article import Article
from monitor.extraction.blocks import BlockWalker
from monitor.snapshot import Snapshot


def article_from_snapshot(snap: Snapshot, canonical_url: str) -> Article:
    return article_from_feed_html(snap.html, title=snap.title, url=canonical_url)


def article_from_feed_html(html: str, *, title: str, url: str) -> Article:
    tree = LexborHTMLParser(f"<html><body>{html}</body></html>")
    root = tree.body
    walker = BlockWalker()
    if root is not None:
        for node in _article_nodes(root):
            walker.visit(node)
    walker.flush()
    return walker.found.to_article(title, url)


def _article_nodes(root: LexborNode) -> list[LexborNode]:
    """Top-level nodes that belong to the article.

    In the section layout the body ends with its <section>; after it only the
    <footer> is article content. Some items carry page furniture there (app
    download links, site navigation, a copyright footer), which is dropped.
    """
    nodes = []
    child = root.child
    while child is not None:
        nodes.append(child)
        child = child.next
    sections = [i for i, n in enumerate(nodes) if n.tag == "section"]
    if not sections:
        return nodes
    last = sections[-1]
    tail = [n for n in nodes[last + 1 :] if n.tag == "footer"][:1]
    return nodes[: last + 1] + tail
