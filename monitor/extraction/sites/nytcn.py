"""Live cn.nytimes.com article pages (also `dual/`, `zh-hant/` and mobile variants)."""

from __future__ import annotations

from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.article import Article, clean_text
from monitor.errors import ExtractionError
from monitor.extraction.blocks import BlockWalker, element_text, normalize_byline
from monitor.extraction.generic import extract_generic
from monitor.extraction.signature import drop_ignored, serialize

BODY_ITEMS = "div.article-paragraph, figure.article-inline-photo"


@dataclass
class ArticleNodes:
    """The nodes of a page the extractor reads, found once for extraction and for the
    unchanged signature alike (so the two can never look at different parts)."""

    root: LexborNode
    title: LexborNode | None
    byline: LexborNode | None
    time: LexborNode | None
    lead: LexborNode | None
    body: list[tuple[LexborNode, bool]] = field(default_factory=list)  # (node, English?)
    footer: LexborNode | None = None


def article_nodes(tree: LexborHTMLParser) -> ArticleNodes | None:
    """None when the page is not the article template (the generic rules apply)."""
    root = tree.css_first("article.article-content")
    if root is None:
        return None
    return ArticleNodes(
        root=root,
        title=_title_node(root),
        byline=root.css_first(".byline address") or root.css_first("address"),
        time=root.css_first("time[pudate]"),
        lead=root.css_first("figure.article-span-photo"),
        body=[(node, _is_english_column(node)) for node in root.css(BODY_ITEMS)],
        footer=root.css_first("footer.author-info"),
    )


def page_signature(html: str) -> list[str] | None:
    """The signature, from the whole page parsed as extraction parses it. (Parsing the
    article element alone saves little, and whatever comes before or after it can
    change how it parses: an `<iframe/>` left open, a nested article, a table left
    open in the last paragraph. Only the whole page gives the extractor's view.)"""
    return signature(LexborHTMLParser(html))


def signature(tree: LexborHTMLParser) -> list[str] | None:
    nodes = article_nodes(tree)
    if nodes is None:
        return None
    drop_ignored(nodes.root)  # after every node was found, as extraction finds them
    parts = [serialize(nodes.title), serialize(nodes.byline), serialize(nodes.time)]
    parts.append(serialize(nodes.lead))
    parts += [("E" if english else "B") + serialize(node) for node, english in nodes.body]
    parts.append(serialize(nodes.footer))
    return parts


def extract_nytcn(html: str, url: str) -> Article:
    nodes = article_nodes(LexborHTMLParser(html))
    if nodes is None:
        # Not the article template (a newsletter, a new layout): the generic rules.
        return extract_generic(html, url)
    title = clean_text(element_text(nodes.title)) if nodes.title is not None else ""
    if not title:
        raise ExtractionError("article page without a headline")
    walker = BlockWalker()
    if nodes.byline is not None:
        walker.found.byline = normalize_byline(element_text(nodes.byline))
    if nodes.time is not None:
        walker.found.pudate = nodes.time.attributes.get("pudate") or ""
        walker.found.date = clean_text(element_text(nodes.time))
    if nodes.lead is not None:
        walker.figure(nodes.lead)
    for node, english in nodes.body:
        if english:
            continue
        if node.tag == "figure":
            walker.visit(node)
            continue
        if len(node.css("div.article-paragraph")) > 1:  # itself, and one nested in it
            # Unclosed tags nest every later paragraph inside this one: reading it would
            # invent an edit, so the page is an extraction failure instead.
            raise ExtractionError("malformed page: article paragraphs nested in each other")
        walker.paragraph(node)  # div.article-paragraph holds one paragraph's content
    walker.flush()
    if nodes.footer is not None:
        walker.footer(nodes.footer)
    else:
        walker.found.footer_seen = True
    return walker.found.to_article(title, url)


def _title_node(root: LexborNode) -> LexborNode | None:
    for h1 in root.css(".article-header header h1, header h1, h1"):
        classes = h1.attributes.get("class") or ""
        if "en-title" not in classes:
            return h1
    return None


def _is_english_column(node: LexborNode) -> bool:
    """Bilingual pages put each English paragraph in the first of two columns."""
    column = node.parent
    while column is not None and "col-lg-6" not in (column.attributes.get("class") or ""):
        column = column.parent
    if column is None:
        return False
    previous = column.prev
    while previous is not None and previous.tag == "-text":
        previous = previous.prev
    return previous is None
