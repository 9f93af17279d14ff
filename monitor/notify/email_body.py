"""An email's two alternatives, the HTML and the plain text, kept and sent together.

The plain part is written by the text renderer (`[-old-]{+new+}`), never derived from
the HTML: stripping tags from `5<del>5</del><ins>6</ins>000` reads "56000", and a
deletion reads as if the text were still there.

The outbox stores one email body per alert (its `html` column); both parts go in it as
one JSON object. A body stored as bare HTML (queued by an older version) still sends,
with a plain part derived from its markup, which marks <del> and <ins> as well.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from monitor.diffing import page

_MARK = '{"email-body":1,'
_SEPARATOR = "\n\n" + "-" * 40 + "\n\n"


@dataclass(frozen=True)
class EmailBody:
    html: str  # HTML for inside <body>, or a complete document when sent
    text: str  # the text/plain part


def pack(body: EmailBody) -> str:
    data = {"email-body": 1, "html": body.html, "text": body.text}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def unpack(stored: str) -> EmailBody:
    if stored.startswith(_MARK):
        data = json.loads(stored)
        return EmailBody(str(data["html"]), str(data["text"]))
    return EmailBody(stored, text_from_html(stored))


def as_document(subject: str, bodies: list[EmailBody]) -> EmailBody:
    """One email from one or more alerts: a digest is still one valid document."""
    html = ("\n" + page.rule() + "\n").join(b.html.rstrip("\n") for b in bodies) + "\n"
    text = _SEPARATOR.join(b.text.rstrip("\n") for b in bodies) + "\n"
    return EmailBody(page.document(subject, html), text)


def text_from_html(markup: str) -> str:
    """Plain text of our own message HTML, with the edit markers of render_text."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", "".join(parser.out))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "hr", "br"}
_MARKERS = {"del": ("[-", "-]"), "ins": ("{+", "+}")}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        elif tag in _MARKERS:
            self.out.append(_MARKERS[tag][0])
        elif tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in _MARKERS:
            self.out.append(_MARKERS[tag][1])
        elif tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.out.append(f"\n{href}")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)
