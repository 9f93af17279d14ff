from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from monitor.article import Article, Block
from monitor.extraction.blocks import image_identity
from monitor.extraction.feed import article_from_feed_html
from support.corpus import BIDEN_OLD, COMMITTED, MENG_NEW, MENG_OLD, all_corpus_files, load_article
from support.pages import nyt_main_page, nyt_page

BIDEN = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"


def test_weserv_proxy_and_renditions_map_to_one_image() -> None:
    a = image_identity(
        "https://images.weserv.nl/?url=static01.nyt.com/images/2021/01/14/x/merlin_1-master1050.jpg"
    )
    b = image_identity(
        "https://images.weserv.nl?url=static01.nyt.com/images/2021/01/14/x/"
        "merlin_1-articleLarge.jpg"
    )
    c = image_identity("https://static01.nyt.com/images/2021/01/14/x/merlin_1-superJumbo.jpg?q=1")
    assert a == b == c == "https://static01.nyt.com/images/2021/01/14/x/merlin_1.jpg"


def test_section_layout_blocks() -> None:
    art = load_article(COMMITTED / "1042037.md")
    assert art.byline == "DAMIEN CAVE"
    assert art.date == "2025年1月10日"
    assert art.pudate.startswith("2025-01-10")
    assert art.lead_image is not None and art.lead_image.credit
    assert art.lead_image.src.startswith("https://static01.nyt.com/images/2025/01/08/")
    assert art.footer[-2:] == ("翻译：纽约时报中文网", "点击查看本文英文版。")
    # The feed's appended advert is not article content.
    assert "RSS" not in art.canonical_text() and "feedx" not in art.canonical_text()


def test_2020_layout_byline_and_stamp() -> None:
    art = load_article(COMMITTED / "1047714.md")
    assert art.byline == "MICHAEL M. GRYNBAUM"
    assert art.pudate == "2020-10-13 14:38:42"
    assert art.date == "2020年10月13日"
    assert art.lead_image is not None and art.lead_image.caption.startswith("周一，未戴口罩")
    assert all(b.kind == "p" for b in art.body[:3])


def test_zh_hans_newsletter_figures() -> None:
    art = load_article(COMMITTED / "1043885.md")
    assert art.lead_image is not None
    assert art.lead_image.caption == "乌克兰总统泽连斯基在七国集团会议上发表讲话。"
    assert art.lead_image.credit == "Richard A. Brooks/Agence France-Presse — Getty Images"
    images = [b for b in art.body if b.kind == "img"]
    assert images and all("Credit" not in b.text for b in images)
    assert not any(b.text == "Image" for b in art.body)


def test_page_furniture_after_the_body_is_dropped() -> None:
    art = load_article(COMMITTED / "1046699.md")
    text = art.canonical_text()
    assert "免费下载" not in text and "最受欢迎" not in text and "©" not in text
    assert art.body[-1].text.startswith("请将中英文简历")
    assert any(b.kind == "h" and b.text == "Job Description:" for b in art.body)


def test_old_and_new_layouts_of_one_article_agree() -> None:
    old, new = load_article(MENG_OLD), load_article(MENG_NEW)
    assert old.lines()[:4] == new.lines()[:4]  # title, byline, date, lead image
    assert old.footer == new.footer
    assert len(old.body) == len(new.body)


@pytest.mark.parametrize("path", all_corpus_files(), ids=lambda p: p.name[:20])
def test_every_corpus_file_extracts_to_a_sane_article(path: Path) -> None:
    art = load_article(path)
    assert art.title
    assert art.body, "no body blocks"
    assert art.text_length() > 50
    assert Article.from_json(art.to_json()) == art
    # Re-rendering in the feed layout reads back to the same canonical text.
    again = article_from_feed_html(art.to_feed_html(), title=art.title, url=art.url)
    assert again.canonical_text() == art.canonical_text()


def test_whitespace_only_differences_are_not_edits() -> None:
    a = article_from_feed_html(
        "<section><p>Hello world, 你好　世界</p></section>", title="T", url="u"
    )
    b = article_from_feed_html(
        "<section><p>Hello\n   world,\u00a0你好世界</p></section>", title="T ", url="u"
    )
    assert a.fingerprint() == b.fingerprint()


def test_attributes_do_not_matter_but_text_does() -> None:
    a = article_from_feed_html('<p><a rel="nofollow" href="x">链接</a>。</p>', title="T", url="u")
    b = article_from_feed_html('<p><a title="Link: y" href="x">链接</a>。</p>', title="T", url="u")
    c = article_from_feed_html('<p><a href="x">链接</a>，</p>', title="T", url="u")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_entities_and_nfc() -> None:
    a = article_from_feed_html("<p>caf&eacute; &amp; co</p>", title="T", url="u")
    b = article_from_feed_html("<p>cafe\u0301 & co</p>", title="T", url="u")
    assert a.body == b.body == (Block("p", "café & co"),)


@pytest.mark.parametrize("path", all_corpus_files(), ids=lambda p: p.name[:20])
def test_live_page_of_an_unchanged_article_gives_the_same_text(path: Path) -> None:
    from monitor.extraction.table import extract
    from monitor.snapshot import read_file

    art = load_article(path)
    if art.url.startswith("https://cn.nytimes.com/"):
        pages = [nyt_page(art, token="1"), nyt_page(art, token="2", dual=True)]
    else:
        snap, _ = read_file(path)
        pages = [nyt_main_page(snap.title, snap.html, token="1")]
    for page in pages:
        assert extract(page, art.url).canonical_text() == art.canonical_text()


def test_page_signature_covers_exactly_the_article() -> None:
    from monitor.extraction.table import page_signature

    old = load_article(BIDEN_OLD)
    a = nyt_page(old, token="1")
    b = nyt_page(old, token="2", hard=True)
    assert a != b
    assert page_signature(a, BIDEN) == page_signature(b, BIDEN) is not None
    edited = nyt_page(dataclasses.replace(old, title="新"), token="1")
    assert page_signature(edited, BIDEN) != page_signature(a, BIDEN)
    generic = "<html><body><article><h1>T</h1><p>x</p></article></body></html>"
    assert page_signature(generic, BIDEN) is None  # not the article template: no fast path
    assert page_signature(generic, "https://example.org/a") is not None  # generic rules
