"""Renderers for a diff between two versions: terminal, text, markdown, HTML pages, JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from monitor.clock import local_time
from monitor.diffing import page
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
    return RENDERERS[fmt](*prepared(header, diff, context), limit)


def prepared(
    header: DiffHeader, diff: ArticleDiff, context: int | None = None
) -> tuple[DiffHeader, ArticleDiff]:
    """Header and diff made safe to show (see render), for a renderer called directly."""
    safe = DiffHeader(
        visible(" ".join(header.title.split())),  # a title is one line
        visible(header.url),
        header.from_ts,
        header.to_ts,
        visible(header.from_pudate),
        visible(header.to_pudate),
    )
    return safe, _visible_diff(diff, context)


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
        lines.append(f"\n{MORE_PREFIX}{hidden} more changed blocks not shown")
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
        # A line break in article text would end the quote and could pass for one of
        # our own block headings (see split_markdown).
        body = " ".join(body.splitlines())
        lines += ["", f"*{_location(change, diff)}* ({change.op}):", "", f"> {body}"]
    if hidden:
        lines += ["", f"{MORE_PREFIX}{hidden} more changed blocks not shown"]
    return "\n".join(lines) + "\n"


MORE_PREFIX = "… "
_MD_MORE = re.compile(r"^… (\d+) more changed blocks")
_MD_LINK_END = re.compile(r"\]\(([^()\s]*)\)\*\*$")


@dataclass(frozen=True)
class MarkdownParts:
    """A message from render_markdown taken apart: the lines before the blocks, each
    block (its heading and its quoted diff), and how many were already left out."""

    head: str
    blocks: list[tuple[str, str]]
    hidden: int
    url: str


def split_markdown(text: str) -> MarkdownParts:
    """The inverse of render_markdown's layout, so a message can be shortened by whole
    blocks later. Article text is escaped, so a paragraph starting with a single `*`
    is always one of our block headings."""
    paragraphs = text.rstrip("\n").split("\n\n")
    head: list[str] = []
    blocks: list[tuple[str, str]] = []
    hidden = 0
    for index, para in enumerate(paragraphs):
        more = _MD_MORE.match(para)
        if more and index == len(paragraphs) - 1:
            hidden = int(more.group(1))
        elif para.startswith("*") and not para.startswith("**"):
            blocks.append((para, ""))
        elif blocks and not blocks[-1][1]:
            blocks[-1] = (blocks[-1][0], para)
        elif blocks:
            blocks[-1] = (blocks[-1][0], f"{blocks[-1][1]}\n\n{para}")
        else:
            head.append(para)
    first = head[0] if head else ""
    link = _MD_LINK_END.search(first)
    return MarkdownParts("\n\n".join(head), blocks, hidden, link.group(1) if link else "")


def _html_when(header: DiffHeader, diff: ArticleDiff) -> str:
    return (
        f"{local_time(header.from_ts)} → {local_time(header.to_ts)} · "
        f"+{diff.chars_added} −{diff.chars_removed} characters"
    )


def _html_head(header: DiffHeader, diff: ArticleDiff) -> list[str]:
    parts = [
        page.title_link(header.title, header.url),
        page.labels(diff.kinds or ["no change"]),
        page.paragraph(_html_when(header, diff)),
    ]
    note = _pudate_note(header)
    if note:
        parts.append(page.paragraph(note))
    return parts


def _html_side(change: BlockChange, keep: int) -> str:
    """One side of a changed block: the old text with its deletions marked (keep=-1)
    or the new text with its insertions marked (keep=1)."""
    marked = page.deleted if keep < 0 else page.inserted
    text = "".join(
        marked(t) if op == keep else page.esc(t) for op, t in change.segments if op in (0, keep)
    )
    if text:
        return text
    return f"<span{page.attr('empty')}>({'not there before' if keep < 0 else 'removed'})</span>"


def _html_where(change: BlockChange, diff: ArticleDiff) -> str:
    minor = ", minor" if change.minor else ""
    return f"{_location(change, diff)} ({change.op}{minor})"


def _html_diff(
    header: DiffHeader,
    diff: ArticleDiff,
    limit: int | None,
    blocks: Callable[[list[BlockChange]], list[str]],
) -> str:
    """Title, kinds and when, the shown blocks as `blocks` lays them out, and notes
    for blocks left out or nothing changed: the frame of every HTML layout."""
    parts = _html_head(header, diff)
    shown, hidden = _shown(diff, limit)
    parts += blocks(shown) if shown else []
    if hidden:
        parts.append(page.paragraph(f"{MORE_PREFIX}{hidden} more changed blocks not shown", "note"))
    if not diff.changes:
        parts.append(page.paragraph("(no text changed)", "note"))
    return "\n".join(parts) + "\n"


def html_fragment(header: DiffHeader, diff: ArticleDiff, limit: int | None = None) -> str:
    """The inside of a diff page or an email: title, kinds, when, and each changed block
    as its before and after."""

    def before_after(shown: list[BlockChange]) -> list[str]:
        label = f"<span{page.attr('side_label')}>"
        return [
            f"<div{page.attr('block')}>"
            f"<p{page.attr('where')}>{page.esc(_html_where(change, diff))}</p>"
            f"<p{page.attr('side')}>{label}before: </span>{_html_side(change, -1)}</p>"
            f"<p{page.attr('side')}>{label}after: </span>{_html_side(change, 1)}</p></div>"
            for change in shown
        ]

    return _html_diff(header, diff, limit, before_after)


def render_html(header: DiffHeader, diff: ArticleDiff, limit: int | None = None) -> str:
    return page.document(header.title, html_fragment(header, diff, limit))


def render_html_side_by_side(
    header: DiffHeader, diff: ArticleDiff, limit: int | None = None
) -> str:
    """A page with the old and new text of each changed block next to each other."""

    def two_columns(shown: list[BlockChange]) -> list[str]:
        rows = [f"<tr><th{page.attr('th')}>before</th><th{page.attr('th')}>after</th></tr>"]
        for change in shown:
            rows.append(
                f'<tr><td colspan="2"{page.attr("where_cell")}>'
                f"{page.esc(_html_where(change, diff))}</td></tr>"
            )
            rows.append(
                f"<tr><td{page.attr('cell')}>{_html_side(change, -1)}</td>"
                f"<td{page.attr('cell')}>{_html_side(change, 1)}</td></tr>"
            )
        return [f"<table{page.attr('table')}>\n" + "\n".join(rows) + "\n</table>"]

    return page.document(header.title, _html_diff(header, diff, limit, two_columns))


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
    "html-side-by-side": render_html_side_by_side,
    "json": render_json,
}
