"""The read side of history: what list, history, diff, show and export print."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from pathlib import Path

from monitor.article import Article, Block
from monitor.clock import local_time
from monitor.diffing.diff import ArticleDiff, diff_articles
from monitor.diffing.render import DiffHeader
from monitor.errors import NotFound
from monitor.history import references
from monitor.history.models import load_article
from monitor.snapshot import Snapshot
from monitor.storage.articles import ArticleRow
from monitor.storage.database import Store
from monitor.storage.versions import VersionRow

VersionRef = str | int | None  # a reference (see history.references), a key, or default


def _pick(versions: list[VersionRow], ref: str | int) -> VersionRow:
    return references.pick(versions, str(ref))


def diff(
    store: Store, ref: str, from_ref: VersionRef = None, to_ref: VersionRef = None
) -> tuple[DiffHeader, ArticleDiff]:
    """Diff two versions (default: the latest and the one before it). A removal has
    no text: as the newer side it diffs to nothing; as the older side the last text
    before it stands in (what a restoration brought back is compared with that)."""
    article = store.resolve(ref)
    versions = store.versions(article.id)
    new = _pick(versions, to_ref) if to_ref is not None else _latest(versions, article)
    if from_ref is not None:
        old: VersionRow | None = _pick(versions, from_ref)
    else:
        old = _before(versions, new)
        if old is None and new.fingerprint is not None:
            raise NotFound(f"article {article.id} has only one version: nothing to diff")
    old_text = _with_text(versions, old) if old is not None else None
    header = DiffHeader(
        title=new.title or (old_text.title if old_text else "") or article.title,
        url=article.url,
        from_ts=(old_text or old or new).ts,
        to_ts=new.ts,
        from_pudate=old_text.pudate if old_text else "",
        to_pudate=new.pudate,
    )
    result = diff_articles(_model(store, old_text), _model(store, new))
    if new.fingerprint is None:
        result = dataclasses.replace(result, kinds=["removed"])
    return header, result


def _latest(versions: list[VersionRow], article: ArticleRow) -> VersionRow:
    if not versions:
        raise NotFound(f"article {article.id} has no versions")
    return versions[-1]


def _before(versions: list[VersionRow], version: VersionRow) -> VersionRow | None:
    earlier = [v for v in versions if v.ts < version.ts]
    return earlier[-1] if earlier else None


def _with_text(versions: list[VersionRow], version: VersionRow) -> VersionRow | None:
    """The version itself, or for a removal the last version before it with text."""
    current: VersionRow | None = version
    while current is not None and current.fingerprint is None:
        current = _before(versions, current)
    return current


_NOTHING = Article(title="")  # the text of a removal, or of no version at all


def _model(store: Store, version: VersionRow | None) -> Article:
    if version is None or version.fingerprint is None:
        return _NOTHING
    return load_article(store, version)


def snapshot_of(store: Store, article: ArticleRow, version: VersionRow) -> str:
    """The version as a snapshot file: byte-exact for imported files."""
    if version.snapshot_blob is not None:
        return store.get_blob(version.snapshot_blob).decode("utf-8")
    if version.fingerprint is None:
        return Snapshot(
            version.ts, version.title or article.title, article.url, "<p>(removed)</p>"
        ).render()
    model: Article = load_article(store, version)
    return Snapshot(version.ts, _one_line(model.title), article.url, model.to_feed_html()).render()


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text)


def show(store: Store, ref: str, at: VersionRef = None, *, text: bool = False) -> str:
    """A version as a snapshot file, or with `text` as text to read."""
    article = store.resolve(ref)
    versions = store.versions(article.id)
    version = _pick(versions, at) if at is not None else _latest(versions, article)
    if not text:
        return snapshot_of(store, article, version)
    label = f"v{references.number_of(versions, version)} of {len(versions)}"
    return readable_text(store, article, version, label)


def readable_text(store: Store, article: ArticleRow, version: VersionRow, label: str) -> str:
    """Title, byline, date and the body as paragraphs: for reading, not re-importing."""
    seen = f"{label}, first seen {local_time(version.ts)}"
    if version.fingerprint is None:
        title = _one_line(version.title or article.title) or article.url
        return f"{title}\n{article.url}\n{seen}\n\n(removed)\n"
    model = load_article(store, version)
    head = [_one_line(model.title) or article.url]
    head += [line for line in (model.byline, model.date) if line]
    head += [article.url, seen]
    blocks = [_image_text(model.lead_image.caption)] if model.lead_image else []
    blocks += [_block_text(block) for block in model.body]
    if model.footer:
        blocks.append("\n".join(model.footer))
    return "\n".join(head) + "\n\n" + "\n\n".join(b for b in blocks if b) + "\n"


def _block_text(block: Block) -> str:
    if block.kind == "img":
        return _image_text(block.text)
    if block.kind == "h":
        return f"## {block.text}"  # a sub-head stands out from the paragraphs
    return block.text


def _image_text(caption: str) -> str:
    return f"[image: {caption}]" if caption else "[image]"


def export(store: Store, refs: list[str], directory: Path, all_articles: bool = False) -> int:
    """Write every version of the articles as snapshot files; return how many."""
    directory.mkdir(parents=True, exist_ok=True)
    targets = list(store.articles()) if all_articles else [store.resolve(r) for r in refs]
    written = 0
    for article in targets:
        for version in store.versions(article.id):
            name = f"{article.id:06d}_{version.ts}.md"
            _write_new(directory / name, snapshot_of(store, article, version).encode("utf-8"))
            written += 1
    return written


def _write_new(path: Path, data: bytes) -> None:
    """Write a file whole or not at all, never through a link planted in its place: a
    fresh temporary file (O_EXCL | O_NOFOLLOW), then a rename over the name (which
    replaces a symlink itself, not what it points to)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
