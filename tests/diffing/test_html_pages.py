"""The HTML diff pages: complete documents, inline styles, both sides of each block."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from monitor.diffing import page
from monitor.diffing.diff import diff_articles
from monitor.diffing.render import RENDERERS, DiffHeader, render
from support.articles import art

HEADER = DiffHeader("预算 <调整>", "https://cn.nytimes.com/a/", 1, 2, "", "")
OLD = art("项目花了5000多万元。", "这句话后来被删掉了。", "不变。")
NEW = art("项目花了6000多万元。", "不变。", "新加的一段。")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.doctype = ""
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "hr", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.open[-1] if self.open else ''}>")
        else:
            self.open.pop()


def _parsed(document: str) -> _Tags:
    parser = _Tags()
    parser.feed(document)
    parser.close()
    assert not parser.errors and not parser.open, (parser.errors, parser.open)
    return parser


@pytest.mark.parametrize("fmt", ["html", "html-side-by-side"])
def test_a_diff_page_is_a_complete_self_styled_document(fmt: str) -> None:
    out = render(fmt, HEADER, diff_articles(OLD, NEW))
    parsed = _parsed(out)
    assert parsed.doctype.lower() == "doctype html"
    names = [tag for tag, _ in parsed.tags]
    assert names[:3] == ["html", "head", "meta"] and ("meta", {"charset": "utf-8"}) in parsed.tags
    assert "style" not in names and "link" not in names  # nothing outside the page
    for tag, attrs in parsed.tags:
        if tag in ("del", "ins"):
            assert attrs["style"] == page.STYLE[tag]
    assert "<title>预算 &lt;调整&gt;</title>" in out
    assert re.search(r"<del [^>]*>5</del>", out) and re.search(r"<ins [^>]*>6</ins>", out)
    assert re.search(r"<del [^>]*>这句话后来被删掉了。</del>", out)
    assert re.search(r"<ins [^>]*>新加的一段。</ins>", out)


def test_side_by_side_lines_up_old_and_new_of_each_block() -> None:
    out = RENDERERS["html-side-by-side"](HEADER, diff_articles(OLD, NEW), None)
    rows = re.findall(r"<tr><td [^>]*>(.*?)</td><td [^>]*>(.*?)</td></tr>", out)
    assert len(rows) == 3  # one row per changed block
    (old1, new1), (old2, new2), (old3, new3) = rows
    assert "<del" in old1 and "<ins" not in old1 and "<ins" in new1 and "<del" not in new1
    assert "这句话后来被删掉了" in old2 and "removed" in new2
    assert "not there before" in old3 and "新加的一段" in new3


def test_the_page_and_the_email_share_one_set_of_styles() -> None:
    from monitor.notify.messages import change_text

    alert = change_text(HEADER, diff_articles(OLD, NEW), "change", 10)
    for tag in ("del", "ins"):
        assert f'<{tag} style="{page.STYLE[tag]}">' in alert.html
    # A single struck-through character stays visible: a background, padding, and a
    # line-through thicker than the default hairline.
    assert "background" in page.STYLE["del"] and "padding" in page.STYLE["del"]
    assert "text-decoration-thickness" in page.STYLE["del"]
