"""Recording versions: succession by timestamp, dedup, change kinds, reverts.

Must be called inside Store.write(): every step here is part of the caller's
transaction, so a version and its change land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.article import Article
from monitor.diffing.diff import diff_articles
from monitor.errors import ExtractionError
from monitor.extraction.feed import article_from_snapshot
from monitor.extraction.table import extract
from monitor.fetching.charset import decode
from monitor.history.models import load_article
from monitor.snapshot import parse
from monitor.storage.database import Store
from monitor.storage.versions import VersionRow
from monitor.urls import normalize


@dataclass(frozen=True)
class Recorded:
    """What recording one sighting did."""

    new_version: bool
    kinds: list[str]
    chars_added: int = 0
    chars_removed: int = 0
    matched_ts: int | None = None  # for a duplicate: the version it repeats


@dataclass(frozen=True)
class _Sighting:
    ts: int
    article: Article | None  # None: a removal
    article_blob: str | None
    snapshot_blob: str | None
    raw_blob: str | None
    source: str


def record(
    store: Store,
    article_id: int,
    ts: int,
    article: Article,
    *,
    source: str,
    snapshot_text: str | None = None,
    raw_html: bytes | None = None,
) -> Recorded:
    later = store.has_later_sighting(article_id, ts)
    if not later:
        previous = store.latest_version(article_id, before=ts)
        if previous is not None and _repeats(previous, article):
            # The common case, an unchanged article: one small row, no content stored.
            snapshot_blob = store.put_blob(snapshot_text.encode()) if snapshot_text else None
            store.add_observation(article_id, ts, "duplicate", previous.ts, snapshot_blob)
            return Recorded(False, [], matched_ts=previous.ts)
    sighting = _Sighting(
        ts,
        article,
        # An imported file is the version's text; a fetched page keeps its model.
        None if snapshot_text else store.put_blob(article.to_json().encode()),
        store.put_blob(snapshot_text.encode()) if snapshot_text else None,
        store.put_blob(raw_html) if raw_html is not None else None,
        source,
    )
    if later:
        return _rebuild_with(store, article_id, sighting)
    result = _append(store, article_id, sighting)
    store.refresh_article_summary(article_id)
    return result


def record_removal(store: Store, article_id: int, ts: int) -> Recorded:
    result = _append(store, article_id, _Sighting(ts, None, None, None, None, "fetch"))
    store.mark_removed(article_id)
    store.refresh_article_summary(article_id)
    return result


def _append(store: Store, article_id: int, sighting: _Sighting) -> Recorded:
    """Record a sighting that is later than everything known of the article."""
    previous = store.latest_version(article_id, before=sighting.ts)
    article = sighting.article
    if article is None:
        removed = _text_size(store, previous) if previous is not None else 0
        _insert(store, article_id, sighting)
        store.set_change(
            article_id, sighting.ts, previous.ts if previous else None, ["removed"], 0, removed
        )
        return Recorded(True, ["removed"], 0, removed)
    if previous is not None and _repeats(previous, article):
        store.add_observation(
            article_id, sighting.ts, "duplicate", previous.ts, sighting.snapshot_blob
        )
        return Recorded(False, [], matched_ts=previous.ts)
    _insert(store, article_id, sighting)
    return _compute_change(store, article_id, sighting.ts, article, previous)


def _repeats(previous: VersionRow, article: Article) -> bool:
    return previous.fingerprint == article.fingerprint() and previous.pudate == article.pudate


def _insert(store: Store, article_id: int, s: _Sighting) -> None:
    store.insert_version_row(
        article_id,
        s.ts,
        s.article,
        article_blob=s.article_blob,
        snapshot_blob=s.snapshot_blob,
        raw_blob=s.raw_blob,
        source=s.source,
    )


def reextract(store: Store, article_id: int) -> int:
    """Re-run extraction on the kept raw HTML of fetched versions, keep their
    timestamps, and replay the succession; return how many versions changed text."""
    changed = 0
    url = store.article_url(article_id)
    for version in store.versions(article_id):
        if version.raw_blob is None:
            continue
        raw = store.get_blob(version.raw_blob)
        try:
            model = extract(decode(None, raw)[1], url)
        except ExtractionError:
            continue
        if model.fingerprint() == version.fingerprint and model.pudate == version.pudate:
            continue
        changed += 1
        blob = store.put_blob(model.to_json().encode())
        store.replace_version_text(article_id, version.ts, model, blob)
    if changed:
        _rebuild_with(store, article_id, None)
    return changed


def _rebuild_with(store: Store, article_id: int, new: _Sighting | None) -> Recorded:
    """A sighting older than others: replay the article's whole succession in order."""
    sightings = [new] if new is not None else []
    for v in store.versions(article_id):
        model = load_article(store, v) if v.fingerprint is not None else None
        sightings.append(
            _Sighting(
                v.ts,
                model,
                v.article_blob,
                v.snapshot_blob,
                v.raw_blob,
                v.source,
            )
        )
    for dup in store.duplicate_sightings(article_id):
        sightings.append(_snapshot_sighting(store, dup.ts, dup.snapshot_blob))
    store.clear_succession(article_id)
    result = Recorded(False, [])
    for sighting in sorted(sightings, key=lambda s: s.ts):
        outcome = _append(store, article_id, sighting)
        if sighting is new:
            result = outcome
    store.refresh_article_summary(article_id)
    return result


def _snapshot_sighting(store: Store, ts: int, snapshot_blob: str) -> _Sighting:
    snap = parse(store.get_blob(snapshot_blob).decode("utf-8"))
    model = article_from_snapshot(snap, normalize(snap.url))
    return _Sighting(ts, model, None, snapshot_blob, None, "import")


def _compute_change(
    store: Store, article_id: int, ts: int, article: Article, previous: VersionRow | None
) -> Recorded:
    if previous is None:
        kinds = ["first"]
        store.set_change(article_id, ts, None, kinds, article.text_length(), 0)
        return Recorded(True, kinds, article.text_length(), 0)
    base = _last_text_version(store, article_id, ts)
    if base is None:
        kinds = ["restored"]
        store.set_change(article_id, ts, previous.ts, kinds, article.text_length(), 0)
        return Recorded(True, kinds, article.text_length(), 0)
    diff = diff_articles(load_article(store, base), article)
    kinds = list(diff.kinds)
    if previous.fingerprint is None:
        same_text = base.fingerprint == article.fingerprint()
        kinds = ["restored"] if same_text else ["restored", *kinds]
    elif base.fingerprint != article.fingerprint():
        earlier = store.earlier_fingerprint_ts(article_id, article.fingerprint(), base.ts)
        if earlier is not None:
            kinds.append("revert")
    store.set_change(article_id, ts, previous.ts, kinds, diff.chars_added, diff.chars_removed)
    return Recorded(True, kinds, diff.chars_added, diff.chars_removed)


def _last_text_version(store: Store, article_id: int, before: int) -> VersionRow | None:
    version = store.latest_version(article_id, before=before)
    while version is not None and version.fingerprint is None:
        version = store.latest_version(article_id, before=version.ts)
    return version


def _text_size(store: Store, version: VersionRow) -> int:
    if version.fingerprint is None:
        return 0
    return load_article(store, version).text_length()
