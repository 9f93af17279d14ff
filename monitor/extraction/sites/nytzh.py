"""www.nytimes.com/zh-hans pages (briefings and newsletters in the main-site template).

The feed carries only the headline and the `section[name=articleBody]` of these
pages, so the live extractor reads exactly those two parts: anything else on the page
(masthead, bylines in the site chrome, recirculation modules) would be a spurious edit.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from monitor.article import Article, clean_text
from monitor.errors import ExtractionError
from monitor.extraction.blocks import BlockWalker, element_text
from monitor.extraction.generic import extract_generic


def extract_nyt_main(html: str, url: str) -> Article:
    tree = LexborHTMLParser(html)
    body = tree.css_first('section[name="articleBody"]')
    if body is None:
        return extract_generic(html, url)
    headline = tree.css_first('h1[data-testid="headline"]') or tree.css_first("h1")
    title = clean_text(element_text(headline)) if headline is not None else ""
    if not title:
        raise ExtractionError("article page without a headline")
    walker = BlockWalker()
    walker.visit(body)
    walker.flush()
    return walker.found.to_article(title, url)
