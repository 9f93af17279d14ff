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


def extract(html: str, canonical_url: str) -> Article:
    from monitor.extract import generic, nytcn, nytzh  # noqa: F401  (fill the registry)
    from monitor.urls import host_of

    host = host_of(canonical_url)
    func = _REGISTRY.get(host) or _REGISTRY["*"]
    article = func(html, canonical_url)
    if len(article.body) > MAX_BLOCKS:
        raise ExtractionError(f"{len(article.body)} text blocks: not an article page")
    return article
