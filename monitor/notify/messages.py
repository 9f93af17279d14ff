"""What an alert says: subject, markdown for chat targets, HTML and plain text for email."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from monitor.clock import local_time
from monitor.diffing import page
from monitor.diffing.diff import ArticleDiff
from monitor.diffing.render import (
    DiffHeader,
    html_fragment,
    md_escape,
    md_url,
    prepared,
    render_markdown,
    render_text,
)
from monitor.display import one_line, visible

# Unchanged text kept on each side of an edit in a message: a one-word fix in a
# 5,000-character paragraph shows as the fix in its sentence, not the whole paragraph.
MESSAGE_CONTEXT_CHARS = 160

EVENT_LABELS = {"change": "changed", "restored": "restored"}


@dataclass(frozen=True)
class AlertText:
    subject: str
    markdown: str
    html: str  # the inside of the email's HTML document (see email_body.as_document)
    text: str  # the email's text/plain part


def whole_diff_command(url: str) -> str:
    """The command that shows every change, as a reader can paste it into a shell."""
    return f"monitor diff {shlex.quote(url)}"


def change_text(header: DiffHeader, diff: ArticleDiff, event: str, max_blocks: int) -> AlertText:
    label = EVENT_LABELS.get(event, event)
    kinds = ", ".join(diff.kinds)
    context = MESSAGE_CONTEXT_CHARS
    safe_header, safe_diff = prepared(header, diff, context)  # once, for every part
    command = whole_diff_command(safe_header.url)
    fragment = html_fragment(safe_header, safe_diff, max_blocks)
    hint = (
        f"<p{page.attr('note')}>Whole diff: <code{page.attr('code')}>{page.esc(command)}</code></p>"
    )
    text = render_text(safe_header, safe_diff, max_blocks)
    return AlertText(
        subject=one_line(f"[{label}: {kinds}] {header.title}"),
        markdown=render_markdown(safe_header, safe_diff, max_blocks),
        html=fragment + hint + "\n",
        text=f"{text}\nArticle: {safe_header.url}\nWhole diff: {command}\n",
    )


def plain_text(subject: str, title: str, url: str, lines: list[str], label: str = "") -> AlertText:
    title, url, lines = one_line(title, 1000), visible(url), [visible(x) for x in lines]
    md = "\n\n".join([f"**[{md_escape(title)}]({md_url(url)})**", *(md_escape(x) for x in lines)])
    parts = [page.title_link(title, url)]
    if label:
        parts.append(page.labels([label]))
    parts += [page.paragraph(x, "side") for x in lines]
    text = "\n\n".join([title, *lines, f"Article: {url}"])
    return AlertText(one_line(subject), md + "\n", "\n".join(parts) + "\n", text + "\n")


def removal_text(title: str, url: str, why: str, ts: int) -> AlertText:
    return plain_text(
        f"[removed] {title}",
        title,
        url,
        [
            f"The article is gone ({why}), seen at {local_time(ts)}.",
            "Its last text is kept in the history.",
        ],
        "removed",
    )


def health_text(event: str, title: str, url: str, line: str) -> AlertText:
    """A 'failing' or 'recovered' alert: about fetching the article, not its text."""
    return plain_text(f"[{event}] {title}", title, url, [line], event)


TEST_LINE = "article-monitor test message: this target works."


def test_message(email: bool) -> str:
    """The body of `monitor notify-test`: for email, the inside of its document."""
    return page.paragraph(TEST_LINE, "side") if email else TEST_LINE
