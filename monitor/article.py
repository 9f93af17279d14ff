"""The block model of an article, its canonical text and fingerprint.

Every source (snapshot files, live pages of any site) reduces to this one model, so
an unchanged article gives the same canonical text whichever way it was seen.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Literal

BlockKind = Literal["p", "h", "img"]

_SPACE_LIKE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")


def clean_text(value: str) -> str:
    """Unicode NFC, NBSP/U+3000/zero-width to space, whitespace collapsed and trimmed."""
    return _SPACE_LIKE.sub(" ", unicodedata.normalize("NFC", value)).strip()


@dataclass(frozen=True)
class Block:
    """One body block: a paragraph, a sub-head, or an image with caption and credit."""

    kind: BlockKind
    text: str = ""
    src: str = ""
    credit: str = ""


@dataclass(frozen=True)
class Image:
    src: str
    caption: str = ""
    credit: str = ""


@dataclass(frozen=True)
class Article:
    title: str
    byline: str = ""
    date: str = ""
    pudate: str = ""
    lead_image: Image | None = None
    body: tuple[Block, ...] = ()
    footer: tuple[str, ...] = ()
    url: str = ""

    def lines(self) -> list[tuple[str, str]]:
        """The compared content as (section, text) lines in reading order."""
        out: list[tuple[str, str]] = [("title", self.title)]
        if self.byline:
            out.append(("byline", self.byline))
        if self.date:
            out.append(("date", self.date))
        if self.lead_image is not None:
            out.append(("image", _image_line(self.lead_image.src, self.lead_image.caption)))
        for block in self.body:
            if block.kind == "img":
                out.append(("image", _image_line(block.src, block.text)))
            else:
                out.append(("subhead" if block.kind == "h" else "body", block.text))
        out.extend(("footer", line) for line in self.footer)
        return out

    def canonical_text(self) -> str:
        tags = {
            "title": "#",
            "byline": "@",
            "date": "=",
            "image": "!",
            "body": "p",
            "subhead": "h",
            "footer": "f",
        }
        return "".join(f"{tags[section]} {text}\n" for section, text in self.lines())

    def fingerprint(self) -> str:
        """Hash of the canonical text with all whitespace removed.

        The archiver deleted whitespace at source line breaks, so a difference in
        whitespace alone is never an edit. Photo credits are shown but not compared:
        older layouts omit them, and their arrival is not an edit of the article.
        """
        cached: str | None = self.__dict__.get("_fingerprint")
        if cached is None:
            squeezed = _SPACE_LIKE.sub("", self.canonical_text())
            cached = hashlib.sha256(squeezed.encode("utf-8")).hexdigest()[:32]
            object.__setattr__(self, "_fingerprint", cached)  # frozen: memoize by hand
        return cached

    def text_length(self) -> int:
        return sum(len(text) for section, text in self.lines() if section != "image") + sum(
            len(b.text) for b in self.body if b.kind == "img"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def from_json(data: str) -> Article:
        raw: dict[str, Any] = json.loads(data)
        lead = raw.get("lead_image")
        return Article(
            title=raw["title"],
            byline=raw.get("byline", ""),
            date=raw.get("date", ""),
            pudate=raw.get("pudate", ""),
            lead_image=Image(**lead) if lead else None,
            body=tuple(Block(**b) for b in raw.get("body", [])),
            footer=tuple(raw.get("footer", [])),
            url=raw.get("url", ""),
        )

    def to_feed_html(self) -> str:
        """Render in the feed's one-line HTML layout, so a fetched version can be
        written as a snapshot file that reads back to the same article."""
        e = html.escape
        parts: list[str] = []
        if self.byline:
            parts.append(f"<address>{e(self.byline)}</address>")
        if self.date or self.pudate:
            pudate = e(self.pudate, quote=True)
            parts.append(f'<time pudate="{pudate}" datetime="{pudate}">{e(self.date)}</time>')
        if self.lead_image is not None:
            parts.append(
                _figure_html(self.lead_image.src, self.lead_image.caption, self.lead_image.credit)
            )
        parts.append("<section>")
        for block in self.body:
            if block.kind == "img":
                parts.append(_figure_html(block.src, block.text, block.credit))
            elif block.kind == "h":
                parts.append(f"<p><b>{e(block.text)}</b></p>")
            else:
                parts.append(f"<p>{e(block.text)}</p>")
        parts.append("</section>")
        if self.footer:
            parts.append("<footer>" + "".join(f"<p>{e(x)}</p>" for x in self.footer) + "</footer>")
        return "".join(parts)


def _image_line(src: str, caption: str) -> str:
    return f"{src} | {caption}" if caption else src


def _figure_html(src: str, caption: str, credit: str) -> str:
    e = html.escape
    cite = f" <cite>{e(credit)}</cite>" if credit else ""
    img = f'<img src="{e(src, quote=True)}">'
    return f"<figure>{img}<figcaption>{e(caption)}{cite}</figcaption></figure>"
