"""HTML page -> Article, with one extractor per site chosen by the canonical host."""

from __future__ import annotations

from collections.abc import Callable

from monitor.article import Article

Extractor = Callable[[str, str], Article]  # (html, canonical url) -> Article
_REGISTRY: dict[str, Extractor] = {}
MAX_BLOCKS = 5000  # the longest corpus article has a few hundred


class ExtractionError(Exception):
    """The page does not look like an article."""


def extractor(*hosts: str) -> Callable[[Extractor], Extractor]:
    def register(func: Extractor) -> Extractor:
        for host in hosts:
            _REGISTRY[host] = func
        return func

    return register


Region = Callable[[bytes], bytes | None]  # raw page -> the bytes its extractor reads
_REGIONS: dict[str, Region] = {}


def region(*hosts: str) -> Callable[[Region], Region]:
    """Declare the only part of a page an extractor reads, for the unchanged fast path."""

    def register(func: Region) -> Region:
        for host in hosts:
            _REGIONS[host] = func
        return func

    return register


def page_digest(raw: bytes, canonical_url: str, content_type: str) -> str | None:
    """A hash of everything extraction depends on, or None when that is not known.

    Equal digests mean equal extraction results, so an unchanged article whose page
    only rotates ads or tokens elsewhere is recognised without parsing it.
    """
    import hashlib

    from monitor.charset import meta_charset
    from monitor.extract import nytcn  # noqa: F401  (fill the registry)
    from monitor.urls import host_of

    find = _REGIONS.get(host_of(canonical_url))
    part = find(raw) if find is not None else None
    if part is None:
        return None
    digest = hashlib.blake2b(part, digest_size=16)
    digest.update(f"\0{content_type}\0{meta_charset(raw)}\0{_VERSION}".encode())
    return digest.hexdigest()


# Bump when an extractor changes what it makes of the same bytes.
_VERSION = "1"


def extract(html: str, canonical_url: str) -> Article:
    from monitor.extract import generic, nytcn, nytzh  # noqa: F401  (fill the registry)
    from monitor.urls import host_of

    host = host_of(canonical_url)
    func = _REGISTRY.get(host) or _REGISTRY["*"]
    article = func(html, canonical_url)
    if len(article.body) > MAX_BLOCKS:
        raise ExtractionError(f"{len(article.body)} text blocks: not an article page")
    return article
