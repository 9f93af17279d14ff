"""What an alert says: subject, markdown for chat targets, HTML for email."""

from __future__ import annotations

import html
from dataclasses import dataclass

from monitor.clock import local_time
from monitor.diffing.diff import ArticleDiff
from monitor.diffing.render import DiffHeader, md_escape, md_url, render
from monitor.display import one_line, visible

# Unchanged text kept on each side of an edit in a message: a one-word fix in a
# 5,000-character paragraph shows as the fix in its sentence, not the whole paragraph.
MESSAGE_CONTEXT_CHARS = 160

EVENT_LABELS = {"change": "changed", "restored": "restored"}


@dataclass(frozen=True)
class AlertText:
    subject: str
    markdown: str
    html: str


def change_text(header: DiffHeader, diff: ArticleDiff, event: str, max_blocks: int) -> AlertText:
    label = EVENT_LABELS.get(event, event)
    kinds = ", ".join(diff.kinds)
    context = MESSAGE_CONTEXT_CHARS
    return AlertText(
        subject=one_line(f"[{label}: {kinds}] {header.title}"),
        markdown=render("markdown", header, diff, max_blocks, context),
        html=render("html", header, diff, max_blocks, context),
    )


def plain_text(subject: str, title: str, url: str, lines: list[str]) -> AlertText:
    title, url, lines = visible(title), visible(url), [visible(x) for x in lines]
    md = "\n\n".join([f"**[{md_escape(title)}]({md_url(url)})**", *(md_escape(x) for x in lines)])
    body = "".join(f"<p>{html.escape(x)}</p>" for x in lines)
    link = f'<h2><a href="{html.escape(url, quote=True)}">{html.escape(title)}</a></h2>'
    return AlertText(one_line(subject), md + "\n", link + body + "\n")


def removal_text(title: str, url: str, why: str, ts: int) -> AlertText:
    return plain_text(
        f"[removed] {title}",
        title,
        url,
        [
            f"The article is gone ({why}), seen at {local_time(ts)}.",
            "Its last text is kept in the history.",
        ],
    )


def health_text(event: str, title: str, url: str, line: str) -> AlertText:
    """A 'failing' or 'recovered' alert: about fetching the article, not its text."""
    return plain_text(f"[{event}] {title}", title, url, [line])


def test_message(email: bool) -> str:
    text = "article-monitor test message: this target works."
    return f"<p>{text}</p>" if email else text
