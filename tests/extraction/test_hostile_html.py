"""Hostile HTML: the extractors give an article or one clear error, never a crash.

The property-based tests run as many examples as the Hypothesis profile says
(HYPOTHESIS_PROFILE, "quick" by default; see tests/conftest.py).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import ExtractionError
from monitor.extraction.feed import article_from_feed_html
from monitor.extraction.table import extract

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

html_fragments = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<div>",
            "</div>",
            "<figure>",
            "</figure>",
            "<img src='x'>",
            "<small>",
            "</small>",
            "<b>",
            "</b>",
            "<section>",
            "</section>",
            "<footer>",
            "</footer>",
            "<br>",
            "<address>",
            "</address>",
            '<time pudate="2024">',
            "</time>",
            "<script>",
            "</script>",
            "<table>",
            "<td>",
            "<!--",
            "-->",
            "&amp;",
            "&#0;",
            "&#xD800;",
            "<",
            ">",
            "文字",
            "text ",
            "翻译：",
            "\x00",
            "<svg>",
            "<figcaption>",
            "<cite>",
            "<li>",
            "<ul>",
            "<h2>",
        ]
    ),
    max_size=60,
).map("".join)


@FUZZ
@given(html_fragments)
def test_feed_extractor_never_crashes(html: str) -> None:
    article = article_from_feed_html(html, title="t", url="https://cn.nytimes.com/a/")
    assert article.canonical_text().startswith("# t\n")


@FUZZ
@given(
    html_fragments,
    st.sampled_from(
        [
            "https://cn.nytimes.com/a/",
            "https://example.org/a",
            "https://www.nytimes.com/zh-hans/a.html",
        ]
    ),
)
def test_live_extractors_never_crash(html: str, url: str) -> None:
    try:
        article = extract(
            f"<html><body><article class='article-content'>{html}</article></body></html>", url
        )
    except ExtractionError as exc:
        assert str(exc)
    else:
        article.fingerprint()
