"""HTML page -> Article: the table of extractors by canonical host, and the page
digest behind the unchanged fast path."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from monitor.article import Article
from monitor.errors import ExtractionError
from monitor.extraction.generic import extract_generic
from monitor.extraction.sites import nytcn, nytzh
from monitor.fetching.charset import meta_charset
from monitor.urls import host_of

Extractor = Callable[[str, str], Article]  # (html, canonical url) -> Article
Region = Callable[[bytes], bytes | None]  # raw page -> the bytes its extractor reads

# One extractor per site; every other host gets the generic rules.
EXTRACTORS: dict[str, Extractor] = {
    "cn.nytimes.com": nytcn.extract_nytcn,
    "m.cn.nytimes.com": nytcn.extract_nytcn,
    "www.nytimes.com": nytzh.extract_nyt_main,
    "nytimes.com": nytzh.extract_nyt_main,
}

# The only part of a page an extractor reads, for sites that declare it.
REGIONS: dict[str, Region] = {
    "cn.nytimes.com": nytcn.article_region,
    "m.cn.nytimes.com": nytcn.article_region,
}

MAX_BLOCKS = 5000  # the longest corpus article has a few hundred

# Bump when an extractor changes what it makes of the same bytes.
_VERSION = "1"


def extract(html: str, canonical_url: str) -> Article:
    func = EXTRACTORS.get(host_of(canonical_url), extract_generic)
    article = func(html, canonical_url)
    if len(article.body) > MAX_BLOCKS:
        raise ExtractionError(f"{len(article.body)} text blocks: not an article page")
    return article


def page_digest(raw: bytes, canonical_url: str, content_type: str) -> str | None:
    """A hash of everything extraction depends on, or None when that is not known.

    Equal digests mean equal extraction results, so an unchanged article whose page
    only rotates ads or tokens elsewhere is recognised without parsing it.
    """
    find = REGIONS.get(host_of(canonical_url))
    part = find(raw) if find is not None else None
    if part is None:
        return None
    digest = hashlib.blake2b(part, digest_size=16)
    digest.update(f"\0{content_type}\0{meta_charset(raw)}\0{_VERSION}".encode())
    return digest.hexdigest()
