"""Any other news site: metadata from meta tags / JSON-LD, text from the main block."""

from __future__ import annotations

import json
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.article import Article, clean_text
from monitor.errors import ExtractionError
from monitor.extraction.blocks import BlockWalker, element_text, normalize_byline
from monitor.extraction.signature import drop_ignored, serialize

MAIN_CANDIDATES = ("[itemprop=articleBody]", "article", "main", "[role=main]", "#content")
PAGE_FURNITURE = "header, footer:not(.author-info), nav, aside, form, .comments, .related"


def extract_generic(html: str, url: str) -> Article:
    tree = LexborHTMLParser(html)
    meta = _metadata(tree)
    root = _main_block(tree)
    if root is None:
        raise ExtractionError("page has no body")
    h1 = root.css_first("h1") or tree.css_first("h1")
    title = meta.get("title") or (clean_text(element_text(h1)) if h1 else "")
    for node in root.css(PAGE_FURNITURE + ", h1"):
        node.decompose()
    walker = BlockWalker()
    found = walker.walk_children(root)
    found.footer_seen = True  # generic pages: no footer heuristics
    if not title:
        raise ExtractionError("page has no title")
    found.byline = found.byline or meta.get("byline", "")
    found.date, found.pudate = meta.get("date", ""), meta.get("pudate", "")
    return found.to_article(title, url)


def signature(tree: LexborHTMLParser) -> list[str] | None:
    """What extract_generic reads: the metadata, the title heading when the metadata
    has no title, and the main block without its furniture (see signature.py)."""
    meta = _metadata(tree)
    root = _main_block(tree)
    if root is None:
        return None
    h1 = root.css_first("h1") or tree.css_first("h1")
    parts = [json.dumps(meta, sort_keys=True, ensure_ascii=False)]
    if not meta.get("title") and h1 is not None:
        drop_ignored(h1)
    parts.append("" if meta.get("title") else serialize(h1))
    for node in root.css(PAGE_FURNITURE + ", h1"):
        node.decompose()
    drop_ignored(root)
    parts.append(serialize(root))
    return parts


def _main_block(tree: LexborHTMLParser) -> LexborNode | None:
    for selector in MAIN_CANDIDATES:
        node = tree.css_first(selector)
        if node is not None and len(node.css("p")) >= 1:
            return node
    return tree.body


def _metadata(tree: LexborHTMLParser) -> dict[str, str]:
    found: dict[str, str] = {}

    def meta(*names: str) -> str:
        for name in names:
            node = tree.css_first(f'meta[property="{name}"], meta[name="{name}"]')
            if node is not None and node.attributes.get("content"):
                return clean_text(node.attributes.get("content") or "")
        return ""

    found["title"] = meta("og:title", "twitter:title")
    found["byline"] = normalize_byline(meta("author", "byline", "article:author"))
    found["date"] = meta("article:published_time", "date", "pubdate")
    found["pudate"] = meta("article:modified_time", "og:updated_time", "last-modified")
    for data in _json_ld(tree):
        found["title"] = found["title"] or clean_text(str(data.get("headline", "")))
        found["date"] = found["date"] or str(data.get("datePublished", ""))
        found["pudate"] = found["pudate"] or str(data.get("dateModified", ""))
        if not found["byline"]:
            found["byline"] = normalize_byline(", ".join(_author_names(data.get("author"))))
    return {k: v for k, v in found.items() if v}


def _json_ld(tree: LexborHTMLParser) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text(deep=True) or "null")
        except ValueError:
            continue
        for item in (
            data
            if isinstance(data, list)
            else data.get("@graph", [data])
            if isinstance(data, dict)
            else []
        ):
            if isinstance(item, dict) and "Article" in str(item.get("@type", "")):
                items.append(item)
    return items


def _author_names(author: object) -> list[str]:
    if isinstance(author, str):
        return [author]
    if isinstance(author, dict):
        return [str(author.get("name", ""))]
    if isinstance(author, list):
        return [name for a in author for name in _author_names(a)]
    return []
