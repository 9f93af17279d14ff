"""Renderers for a diff between two versions: terminal, text, markdown, HTML, JSON."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from monitor.clock import local_time
from monitor.diffing.diff import ArticleDiff, BlockChange
from monitor.display import visible

SECTION_LABEL = {
    "title": "title",
    "byline": "byline",
    "date": "date",
    "image": "image",
    "body": "paragraph",
    "subhead": "sub-head",
    "footer": "footer",
}


@dataclass(frozen=True)
class DiffHeader:
    title: str
    url: str
    from_ts: int
    to_ts: int
    from_pudate: str
    to_pudate: str


Renderer = Callable[[DiffHeader, ArticleDiff, int | None], str]


def render(
    fmt: str,
    header: DiffHeader,
    diff: ArticleDiff,
    limit: int | None = None,
    context: int | None = None,
) -> str:
    """Render; for short messages, `limit` trims the listed changes (with a note) and
    `context` shortens unchanged text around the edits to about that many characters."""
    if fmt == "json":  # exact text: JSON escapes control characters itself
        return RENDERERS[fmt](header, diff, limit)
    safe = DiffHeader(
        visible(" ".join(header.title.split())),  # a title is one line
        visible(header.url),
        header.from_ts,
        header.to_ts,
        visible(header.from_pudate),
        visible(header.to_pudate),
    )
    return RENDERERS[fmt](safe, _visible_diff(diff, context), limit)


def _shorten(text: str, context: int, first: bool, last: bool) -> str:
    """Unchanged text around an edit, cut to `context` characters on the sides that
    touch an edit; a block's very start and end count as not touching one."""
    if len(text) <= 2 * context + 20:
        return text
    head = "" if first else text[:context]
    tail = "" if last else text[-context:]
    return f"{head} … {tail}".strip() if head or tail else "…"


def _visible_diff(diff: ArticleDiff, context: int | None) -> ArticleDiff:
    import dataclasses

    changes = []
    for change in diff.changes:
        segments = [(op, visible(t)) for op, t in change.segments]
        if context is not None:
            last = len(segments) - 1
            segments = [
                (op, _shorten(t, context, i == 0, i == last) if op == 0 else t)
                for i, (op, t) in enumerate(segments)
            ]
        changes.append(dataclasses.replace(change, segments=segments))
    return dataclasses.replace(diff, changes=changes)


def _location(change: BlockChange, diff: ArticleDiff) -> str:
    """'paragraph 12', 'image 2', 'footer 3': counted within the block's own kind."""
    label = SECTION_LABEL.get(change.section, change.section)
    if change.new_index is not None:
        index, lines = change.new_index, diff.new_lines
    elif change.old_index is not None:
        index, lines = change.old_index, diff.old_lines
    else:
        return label
    if change.section not in ("body", "subhead", "image", "footer"):
        return label
    ordinal = sum(1 for section, _ in lines[: index + 1] if section == change.section)
    return f"{label} {ordinal}"


def _summary_line(header: DiffHeader, diff: ArticleDiff) -> str:
    kinds = ", ".join(diff.kinds) or "none"
    return (
        f"{local_time(header.from_ts)} -> {local_time(header.to_ts)}  [{kinds}]  "
        f"+{diff.chars_added} -{diff.chars_removed} chars"
    )


def _pudate_note(header: DiffHeader) -> str | None:
    if header.from_pudate != header.to_pudate:
        return f"last-modified: {header.from_pudate or '-'} -> {header.to_pudate or '-'}"
    return None


def _shown(diff: ArticleDiff, limit: int | None) -> tuple[list[BlockChange], int]:
    if limit is None or len(diff.changes) <= limit:
        return diff.changes, 0
    return diff.changes[:limit], len(diff.changes) - limit


def _plain(
    header: DiffHeader,
    diff: ArticleDiff,
    limit: int | None,
    removed: Callable[[str], str],
    added: Callable[[str], str],
    emphasis: Callable[[str], str],
) -> str:
    lines = [emphasis(header.title), header.url, _summary_line(header, diff)]
    note = _pudate_note(header)
    if note:
        lines.append(note)
    shown, hidden = _shown(diff, limit)
    for change in shown:
        minor = ", minor" if change.minor else ""
        body = "".join(
            removed(t) if op < 0 else added(t) if op > 0 else t for op, t in change.segments
        )
        lines.append(f"\n{emphasis(_location(change, diff))} ({change.op}{minor}):")
        lines.append(body)
    if hidden:
        lines.append(f"\n… {hidden} more changed blocks not shown")
    if not diff.changes:
        lines.append("\n(no text changed)")
    return "\n".join(lines) + "\n"


def render_text(header: DiffHeader, diff: ArticleDiff, limit: int | None = None) -> str:
    return _plain(header, diff, limit, lambda t: f"[-{t}-]", lambda t: f"{{+{t}+}}", str)


def render_terminal(header: DiffHeader, diff: ArticleDiff, limit: int | None = None) -> str:
    import click

    return _plain(
        header,
        diff,
        limit,
        lambda t: click.style(t, fg="red", strikethrough=True),
        lambda t: click.style(t, fg="green", underline=True),
        lambda t: click.style(t, bold=True),
    )


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_url(url: str) -> str:
    """A link target that cannot end the link early or start a new one."""
    return url.translate({ord(c): f"%{ord(c):02X}" for c in "()<>[] "})


def render_markdown(header: DiffHeader, diff: ArticleDiff, limit: int | None = None) -> str:
    lines = [
        f"**[{md_escape(header.title)}]({md_url(header.url)})**",
        "",
        md_escape(_summary_line(header, diff)),
    ]
    note = _pudate_note(header)
    if note:
        lines.append("")
        lines.append(md_escape(note))
    shown, hidden = _shown(diff, limit)
    for change in shown:
        body = "".join(
            f"~~{md_escape(t)}~~" if op < 0 else f"**{md_escape(t)}**" if op > 0 else md_escape(t)
            for op, t in change.segments
            if t.strip() or op == 0
        )
        lines += ["", f"*{_location(change, diff)}* ({change.op}):", "", f"> {body}"]
    if hidden:
        lines += ["", f"… {hidden} more changed blocks not shown"]
    return "\n".join(lines) + "\n"


def render_html(header: DiffHeader, diff: ArticleDiff, limit: int | None = None) -> str:
    e = html.escape
    parts = [
        f'<h2><a href="{e(header.url, quote=True)}">{e(header.title)}</a></h2>',
        f"<p>{e(_summary_line(header, diff))}</p>",
    ]
    note = _pudate_note(header)
    if note:
        parts.append(f"<p>{e(note)}</p>")
    shown, hidden = _shown(diff, limit)
    for change in shown:
        body = "".join(
            f"<del>{e(t)}</del>" if op < 0 else f"<ins>{e(t)}</ins>" if op > 0 else e(t)
            for op, t in change.segments
        )
        parts.append(f"<h4>{e(_location(change, diff))} ({e(change.op)})</h4><p>{body}</p>")
    if hidden:
        parts.append(f"<p>… {hidden} more changed blocks not shown</p>")
    return "\n".join(parts) + "\n"


def diff_as_dict(header: DiffHeader, diff: ArticleDiff) -> dict[str, object]:
    return {
        "title": header.title,
        "url": header.url,
        "from_ts": header.from_ts,
        "to_ts": header.to_ts,
        "pudate": {"from": header.from_pudate, "to": header.to_pudate},
        "kinds": diff.kinds,
        "chars_added": diff.chars_added,
        "chars_removed": diff.chars_removed,
        "changes": [
            {
                "section": c.section,
                "op": c.op,
                "minor": c.minor,
                "old_index": c.old_index,
                "new_index": c.new_index,
                "old": c.old,
                "new": c.new,
                "segments": [[op, t] for op, t in c.segments],
            }
            for c in diff.changes
        ],
    }


def render_json(header: DiffHeader, diff: ArticleDiff, limit: int | None = None) -> str:
    return json.dumps(diff_as_dict(header, diff), ensure_ascii=False, indent=2) + "\n"


# Renderers by output format (`monitor diff --format`).
RENDERERS: dict[str, Renderer] = {
    "text": render_text,
    "terminal": render_terminal,
    "markdown": render_markdown,
    "html": render_html,
    "json": render_json,
}
