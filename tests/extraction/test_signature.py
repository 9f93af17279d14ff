"""The unchanged fast path gives the full path's verdict: whenever two pages have the
same signature, full extraction gives them the same article (never a real edit called
unchanged), and pages that differ only where extraction does not read share one
signature (so the fast path is taken on them)."""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import json
import re
from pathlib import Path

import pytest

from monitor.article import Article, Block
from monitor.extraction.table import examine, extract, page_signature
from support.corpus import SHARED_CORPUS, all_corpus_files, committed_files, load_article
from support.pages import nyt_page

EXTRACTION_DEV = SHARED_CORPUS.parent / "extraction-dev"


def _verdict(html: str, url: str) -> tuple[str, str] | str:
    try:
        article = extract(html, url)
    except Exception as exc:  # an extraction error is a verdict too
        return f"error: {type(exc).__name__}"
    return article.fingerprint(), article.pudate


def _assert_sound(pages: dict[str, str], url: str) -> dict[str, str | None]:
    """Same signature => same full verdict, over every pair of pages."""
    signatures = {name: page_signature(html, url) for name, html in pages.items()}
    verdicts = {name: _verdict(html, url) for name, html in pages.items()}
    for a, b in itertools.combinations(pages, 2):
        if signatures[a] is not None and signatures[a] == signatures[b]:
            assert verdicts[a] == verdicts[b], f"{a} and {b}: one signature, two articles"
    return signatures


def _edits(art: Article) -> dict[str, Article]:
    """Real edits a reader would see, each small."""
    middle = len(art.body) // 2
    edits = {"title": dataclasses.replace(art, title=art.title + "（更新）")}
    texts = [i for i, b in enumerate(art.body) if b.kind == "p" and len(b.text) > 4]
    if texts:
        i = min(texts, key=lambda j: abs(j - middle))
        block = art.body[i]
        changed = block.text[:2] + ("甲" if block.text[2] != "甲" else "乙") + block.text[3:]
        body = list(art.body)
        body[i] = Block(block.kind, changed, block.src, block.credit)
        edits["one character"] = dataclasses.replace(art, body=tuple(body))
        body = list(art.body)
        body[i] = Block("h" if block.kind == "p" else "p", block.text, block.src, block.credit)
        edits["paragraph made a sub-head"] = dataclasses.replace(art, body=tuple(body))
        edits["paragraph removed"] = dataclasses.replace(art, body=art.body[:i] + art.body[i + 1 :])
    edits["pudate"] = dataclasses.replace(art, pudate="2031-01-01 00:00:00")
    if art.footer:
        edits["footer"] = dataclasses.replace(art, footer=(*art.footer[:-1], art.footer[-1] + "。"))
    return edits


def _cn_pages(path: Path) -> tuple[dict[str, str], str] | None:
    art = load_article(path)
    if not art.url.startswith("https://cn.nytimes.com/"):
        return None
    pages = {}
    for dual, hard in itertools.product((False, True), (False, True)):
        for token in ("1", "2"):
            pages[f"dual={dual} hard={hard} token={token}"] = nyt_page(
                art, token=token, dual=dual, hard=hard
            )
    for name, edited in _edits(art).items():
        pages[f"edit: {name}"] = nyt_page(edited, token="3", hard=True)
        pages[f"edit: {name} (dual)"] = nyt_page(edited, token="4", dual=True)
    return pages, art.url


def _check_cn(path: Path) -> None:
    found = _cn_pages(path)
    if found is None:
        pytest.skip("not a cn.nytimes.com article: no signature for its extractor")
    pages, url = found
    signatures = _assert_sound(pages, url)
    # Furniture, tokens, ads between paragraphs, scripts and comments inside them, the
    # article element's classes: none of it moves the signature.
    for dual, hard in itertools.product((False, True), (False, True)):
        one = signatures[f"dual={dual} hard={hard} token=1"]
        assert one is not None
        assert one == signatures[f"dual={dual} hard={hard} token=2"]
    assert signatures["dual=False hard=False token=1"] == signatures["dual=False hard=True token=1"]


@pytest.mark.parametrize("path", committed_files(), ids=lambda p: p.name[:20])
def test_fast_verdict_is_the_full_verdict_on_the_committed_corpus(path: Path) -> None:
    _check_cn(path)


@pytest.mark.slow
@pytest.mark.parametrize("path", all_corpus_files(), ids=lambda p: p.name[:24])
def test_fast_verdict_is_the_full_verdict_on_every_corpus_page(path: Path) -> None:
    _check_cn(path)


def _dev_pages() -> list[Path]:
    return sorted((EXTRACTION_DEV / "html").glob("*.html.gz"))


_PARAGRAPH_END = re.compile(r"</p>", re.I)


def _dev_variants(html: str, text: str) -> dict[str, str]:
    """Furniture-only and one-word variants of a real page of another site."""
    variants = {"base": html}
    count = len(_PARAGRAPH_END.findall(html))
    middle = count // 2
    seen = {"n": 0}

    def inside(match: re.Match[str]) -> str:
        seen["n"] += 1
        extra = f"<!-- r{seen['n']} --><script>var t={seen['n']}</script>"
        return extra + match.group(0)

    variants["scripts and comments in paragraphs"] = _PARAGRAPH_END.sub(inside, html)
    words = [w for w in re.findall(r"\w{6,}", text)[len(text) // 40 :] if w in html]
    if words:
        word = words[0]
        at = html.find(word, html.find(text[:30]) if text[:30] in html else 0)
        if at >= 0:
            variants["one word"] = html[:at] + word[::-1] + html[at + len(word) :]
    if middle:
        index = iter(range(count))

        def ad_after_middle(match: re.Match[str]) -> str:
            ad = '<div class="ad">rotating</div>' if next(index) == middle else ""
            return match.group(0) + ad

        variants["ad between paragraphs"] = _PARAGRAPH_END.sub(ad_after_middle, html)
    return variants


@pytest.mark.slow
@pytest.mark.skipif(not EXTRACTION_DEV.is_dir(), reason="needs ../shared/extraction-dev")
def test_generic_fast_verdict_is_the_full_verdict_on_real_pages_of_other_sites() -> None:
    truth = json.loads((EXTRACTION_DEV / "ground-truth.json").read_text())
    stable = 0
    for path in _dev_pages():
        key = path.name.split(".")[0]
        url = truth[key]["url"].replace("http://", "https://")
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        if "nytimes.com" in url:
            url = "https://generic.example/" + key  # the generic extractor's pages
        variants = _dev_variants(html, truth[key]["articleBody"])
        signatures = _assert_sound(variants, url)
        base = signatures["base"]
        stable += base is not None and base == signatures["scripts and comments in paragraphs"]
    assert stable >= len(_dev_pages()) * 0.9  # scripts and comments alone move nothing


def test_examine_skips_extraction_when_the_signature_is_known() -> None:
    art = load_article(committed_files()[0])
    url = art.url
    first = nyt_page(art, token="a", hard=True).encode()
    signature, article = examine(first, "utf-8", url, None)
    assert signature is not None and article is not None
    again, skipped = examine(nyt_page(art, token="b", hard=True).encode(), "utf-8", url, signature)
    assert again == signature and skipped is None
    edited = dataclasses.replace(art, title=art.title + "！")
    moved, parsed = examine(nyt_page(edited, token="c").encode(), "utf-8", url, signature)
    assert moved != signature and parsed is not None and parsed.title == edited.title


def _one_signature_means_one_article(pairs: list[tuple[str, str]], url: str) -> None:
    for a, b in pairs:
        if page_signature(a, url) == page_signature(b, url) is not None:
            assert _verdict(a, url) == _verdict(b, url)


def test_what_surrounds_the_article_is_part_of_its_signature() -> None:
    """Pages whose article parses differently because of what comes before or after
    it (found by an adversarial review of an article-only signature)."""
    art = load_article(committed_files()[0])
    url = art.url
    page = nyt_page(art, token="1", hard=True)
    at = page.index("<main>")
    cases = []
    # Left open before the article: it swallows the page.
    for breaker in ("<!-- ", "<script>", "<textarea>", '<iframe src="https://ads.example/x" />'):
        cases.append((page, page[:at] + breaker + page[at:]))
    cases.append(
        (
            "<script>for(var i=3;i-->0;){}</script>" + page,
            "<script>for(var i=3;i-->0;){}</script>" + page[:at] + "<!-- " + page[at:],
        )
    )
    # A table left open in the last paragraph: what follows the article joins it.
    last = page.rindex('<div class="article-paragraph">')
    broken = page[:last] + '<div class="article-paragraph"><table><tr><td>数据' + page[last:]
    cases.append((broken, broken.replace("热门文章一", "热门文章三")))
    # A nested article card and an outer article closed only by </main>.
    nested = page.replace(
        '<div class="article-partial">',
        '<div class="article-partial"><article class="story-card"><p>卡片</p></article>',
        1,
    ).replace("</article></main>", "</main>")
    body_start = nested.rindex('<div class="article-paragraph">')
    edited = nested[:body_start] + nested[body_start:].replace("。", "！", 1)
    cases.append((nested, edited))
    _one_signature_means_one_article(cases, url)


def test_script_text_never_decides_what_is_an_advert() -> None:
    url = "https://example.org/news/1"
    advert = (
        "<html><head><title>T</title></head><body><article><h1>T</h1><p>第一段。</p>"
        "<div>{}获取更多RSS订阅</div><p>最后一段。</p></article></body></html>"
    )
    with_script = advert.format("<script>var t=1</script>")
    plain = advert.format("")
    assert page_signature(with_script, url) == page_signature(plain, url)
    assert _verdict(with_script, url) == _verdict(plain, url)


def test_a_page_broken_before_the_article_is_not_signed_from_the_article_alone() -> None:
    """An unclosed comment or script before the article swallows it on the whole page:
    the signature must follow the whole page then, not the article parsed alone."""
    art = load_article(committed_files()[0])
    page = nyt_page(art, token="1")
    at = page.index("<main>")
    for breaker in ("<!-- ", "<script>", "<textarea>"):
        broken = page[:at] + breaker + page[at:]
        assert _verdict(broken, art.url) != _verdict(page, art.url)
        assert page_signature(broken, art.url) != page_signature(page, art.url)
