"""Live cn.nytimes.com article pages (also `dual/`, `zh-hant/` and mobile variants)."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.article import Article, clean_text
from monitor.errors import ExtractionError
from monitor.extraction.blocks import BlockWalker, element_text, normalize_byline
from monitor.extraction.generic import extract_generic

BODY_ITEMS = "div.article-paragraph, figure.article-inline-photo"


_ROOT_START = b'<article class="article-content"'


def article_region(raw: bytes) -> bytes | None:
    """The article element (and anything after it up to the last </article>): all that
    extract_nytcn reads. None when the page does not have the expected template."""
    start = raw.find(_ROOT_START)
    end = raw.rfind(b"</article>")
    if start < 0 or end < start or raw.count(_ROOT_START) != 1:
        return None
    return raw[start : end + len(b"</article>")]


def extract_nytcn(html: str, url: str) -> Article:
    tree = LexborHTMLParser(html)
    root = tree.css_first("article.article-content")
    if root is None:
        # Not the article template (a newsletter, a new layout): the generic rules.
        return extract_generic(html, url)
    title = _title(root)
    if not title:
        raise ExtractionError("article page without a headline")
    walker = BlockWalker()
    byline_node = root.css_first(".byline address") or root.css_first("address")
    if byline_node is not None:
        walker.found.byline = normalize_byline(element_text(byline_node))
    time_node = root.css_first("time[pudate]")
    if time_node is not None:
        walker.found.pudate = time_node.attributes.get("pudate") or ""
        walker.found.date = clean_text(element_text(time_node))
    lead = root.css_first("figure.article-span-photo")
    if lead is not None:
        walker.figure(lead)
    for node in root.css(BODY_ITEMS):
        if _is_english_column(node):
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
    footer = root.css_first("footer.author-info")
    if footer is not None:
        walker.footer(footer)
    else:
        walker.found.footer_seen = True
    return walker.found.to_article(title, url)


def _title(root: LexborNode) -> str:
    for h1 in root.css(".article-header header h1, header h1, h1"):
        classes = h1.attributes.get("class") or ""
        if "en-title" not in classes:
            return clean_text(element_text(h1))
    return ""


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
