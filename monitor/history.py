"""Recording versions: succession by timestamp, dedup, change kinds, reverts.

Must be called inside Store.write(): every step here is part of the caller's
transaction, so a version and its change land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.article import Article
from monitor.diff import diff_articles
from monitor.store import Store, VersionRow


@dataclass(frozen=True)
class Recorded:
    """What recording one sighting did."""

    new_version: bool
    kinds: list[str]
    chars_added: int = 0
    chars_removed: int = 0
    matched_ts: int | None = None  # for a duplicate: the version it repeats


def record(store: Store, article_id: int, ts: int, article: Article, *, source: str,
           snapshot_text: str | None = None, raw_html: bytes | None = None) -> Recorded:
    previous = store.latest_version(article_id, before=ts)
    if previous is not None and _repeats(previous, article):
        snapshot_blob = store.put_blob(snapshot_text.encode()) if snapshot_text else None
        store.add_observation(article_id, ts, "duplicate", previous.ts, snapshot_blob)
        return Recorded(False, [], matched_ts=previous.ts)
    store.insert_version(article_id, ts, article, source=source, snapshot_text=snapshot_text,
                         raw_html=raw_html)
    result = _compute_change(store, article_id, ts, article, previous)
    _resequence_after(store, article_id, ts, article)
    store.refresh_article_summary(article_id)
    return result


def record_removal(store: Store, article_id: int, ts: int) -> Recorded:
    previous = store.latest_version(article_id, before=ts)
    store.insert_version(article_id, ts, None, source="fetch")
    store.set_change(article_id, ts, previous.ts if previous else None, ["removed"], 0,
                     0 if previous is None else _text_size(store, previous))
    store.conn.execute("UPDATE articles SET state = 'removed' WHERE id = ?", (article_id,))
    store.refresh_article_summary(article_id)
    return Recorded(True, ["removed"])


def _repeats(previous: VersionRow, article: Article) -> bool:
    return previous.fingerprint == article.fingerprint() and previous.pudate == article.pudate


def _compute_change(store: Store, article_id: int, ts: int, article: Article,
                    previous: VersionRow | None) -> Recorded:
    if previous is None:
        kinds = ["first"]
        store.set_change(article_id, ts, None, kinds, article.text_length(), 0)
        return Recorded(True, kinds, article.text_length(), 0)
    base = _last_text_version(store, article_id, ts)
    if base is None:
        kinds = ["restored"]
        store.set_change(article_id, ts, previous.ts, kinds, article.text_length(), 0)
        return Recorded(True, kinds, article.text_length(), 0)
    diff = diff_articles(store.load_article(base), article)
    kinds = list(diff.kinds)
    if previous.fingerprint is None:
        kinds.insert(0, "restored")
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


def _resequence_after(store: Store, article_id: int, ts: int, article: Article) -> None:
    """A version recorded out of order changes what its successors changed from."""
    previous_ts: int = ts
    previous_article: Article | None = article
    following = store.next_version(article_id, ts)
    while following is not None:
        if following.fingerprint is None:
            store.set_change(article_id, following.ts, previous_ts, following.kinds, 0,
                             following.chars_removed)
            previous_ts, previous_article = following.ts, None
            following = store.next_version(article_id, following.ts)
            continue
        following_article = store.load_article(following)
        if (previous_article is not None
                and previous_article.fingerprint() == following.fingerprint
                and previous_article.pudate == following.pudate):
            store.demote_version(article_id, following.ts, previous_ts)
        else:
            predecessor = store.latest_version(article_id, before=following.ts)
            _compute_change(store, article_id, following.ts, following_article, predecessor)
            previous_ts, previous_article = following.ts, following_article
        following = store.next_version(article_id, following.ts)


def _text_size(store: Store, version: VersionRow) -> int:
    if version.article_blob is None:
        return 0
    return store.load_article(version).text_length()
