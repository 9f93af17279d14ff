"""A stored version's article model, read back from its blob.

Recording an edit reads the previous version several times (compare, diff, alert).
Blobs are content-addressed and never change, so parsed models are kept a while,
keyed by blob (and, for a snapshot file, by the article URL it is read against).
"""

from __future__ import annotations

from collections import OrderedDict

from monitor.article import Article
from monitor.errors import NotFound
from monitor.extraction.feed import article_from_snapshot
from monitor.snapshot import parse
from monitor.storage.database import Store
from monitor.storage.versions import VersionRow

MODEL_CACHE_SIZE = 64  # parsed versions kept per process

_models: OrderedDict[tuple[str, str], Article] = OrderedDict()


def load_article(store: Store, version: VersionRow) -> Article:
    """The article model of a version that has text."""
    if version.article_blob is not None:
        key = (version.article_blob, "")
    elif version.snapshot_blob is not None:
        key = (version.snapshot_blob, store.article_url(version.article_id))
    else:
        raise NotFound(f"version {version.ts} has no article text (removed)")
    model = _models.get(key)
    if model is None:
        model = _parse(store, *key)
        _models[key] = model
        while len(_models) > MODEL_CACHE_SIZE:
            _models.popitem(last=False)
    else:
        _models.move_to_end(key)
    return model


def _parse(store: Store, blob: str, url: str) -> Article:
    text = store.get_blob(blob).decode("utf-8")
    if not url:
        return Article.from_json(text)
    # Imported versions keep only their file: the model is read back from it.
    return article_from_snapshot(parse(text), url)


def cached_models() -> int:
    return len(_models)
