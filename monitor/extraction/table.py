"""HTML page -> Article: the table of extractors by canonical host, and the
signatures behind the unchanged fast path."""

from __future__ import annotations

from collections.abc import Callable

from selectolax.lexbor import LexborHTMLParser

from monitor.article import Article
from monitor.errors import ExtractionError
from monitor.extraction import generic
from monitor.extraction.generic import extract_generic
from monitor.extraction.signature import digest
from monitor.extraction.sites import nytcn, nytzh
from monitor.fetching.charset import decode
from monitor.urls import host_of

Extractor = Callable[[str, str], Article]  # (html, canonical url) -> Article

# One extractor per site; every other host gets the generic rules.
EXTRACTORS: dict[str, Extractor] = {
    "cn.nytimes.com": nytcn.extract_nytcn,
    "m.cn.nytimes.com": nytcn.extract_nytcn,
    "www.nytimes.com": nytzh.extract_nyt_main,
    "nytimes.com": nytzh.extract_nyt_main,
}

PageSignature = Callable[[str], list[str] | None]

# What each extractor reads, for the unchanged fast path: cheap enough to take in the
# checking process itself. A site extractor missing here has no fast path.
SIGNATURES: dict[str, PageSignature] = {
    "cn.nytimes.com": nytcn.page_signature,
    "m.cn.nytimes.com": nytcn.page_signature,
}

MAX_BLOCKS = 5000  # the longest corpus article has a few hundred

# Bump when an extractor changes what it makes of the same page: every stored
# signature is then stale and the next check of each article runs in full.
_VERSION = "2"


def extract(html: str, canonical_url: str) -> Article:
    func = EXTRACTORS.get(host_of(canonical_url), extract_generic)
    article = func(html, canonical_url)
    if len(article.body) > MAX_BLOCKS:
        raise ExtractionError(f"{len(article.body)} text blocks: not an article page")
    return article


def page_signature(html: str, canonical_url: str) -> str | None:
    """A hash of everything extraction reads of this page, or None when that is not
    known. Equal signatures mean equal extraction results."""
    host = host_of(canonical_url)
    sign = SIGNATURES.get(host)
    if sign is not None:
        parts = sign(html)
    elif host in EXTRACTORS:
        return None
    else:
        parts = generic.signature(LexborHTMLParser(html))
    return None if parts is None else digest(parts, _VERSION)


def examine(
    raw: bytes, charset: str | None, canonical_url: str, known: str | None
) -> tuple[str | None, Article | None]:
    """(signature, article): the article is None when the signature is `known` (the
    page says what it said last time); otherwise the page is extracted in full."""
    html = decode(charset, raw)[1]
    signature = page_signature(html, canonical_url)
    if signature is not None and signature == known:
        return signature, None
    return signature, extract(html, canonical_url)
