"""Stored versions parsed back into article models, through a bounded cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.history import models
from monitor.history.importing import import_paths
from monitor.storage.database import Store
from support.corpus import COMMITTED


def test_parsed_versions_are_reused_within_a_bounded_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "MODEL_CACHE_SIZE", 3)
    monkeypatch.setattr(models, "_models", type(models._models)())
    store = Store.open(tmp_path / "state")
    import_paths(store, [COMMITTED])
    versions = [v for row in store.articles() for v in store.versions(row.id)][:5]
    models._models.clear()
    first = models.load_article(store, versions[0])
    assert models.load_article(store, versions[0]) is first  # parsed once, then reused
    for version in versions[1:4]:
        assert models.load_article(store, version) != first
    assert models.cached_models() == 3
    again = models.load_article(store, versions[0])  # evicted by the three since: parsed again
    assert again is not first and again == first
    store.close()
