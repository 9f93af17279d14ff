"""URL normalisation: one key per article, whatever variant of its address is given."""

from __future__ import annotations

import pytest

from monitor.errors import UrlError
from monitor.urls import normalize

URL = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"


@pytest.mark.parametrize(
    "variant",
    [
        URL,
        URL + "dual/",
        URL + "zh-hant/",
        URL + "?utm_source=RSS",
        URL + "#comments",
        URL.rstrip("/"),
        "http://CN.nytimes.com/usa/20240701/biden-campaign-debate-scramble/dual/?utm_source=RSS",
        "https://m.cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/",
    ],
)
def test_url_variants_share_one_key(variant: str) -> None:
    assert normalize(variant) == URL


def test_other_sites_keep_identifying_query() -> None:
    assert (
        normalize("https://Example.org/story?id=42&utm_medium=x#top")
        == "https://example.org/story?id=42"
    )


@pytest.mark.parametrize(
    "bad", ["", "ftp://x.org/a", "notaurl", "https:///path", "http://a b.org/"]
)
def test_bad_urls(bad: str) -> None:
    with pytest.raises(UrlError):
        normalize(bad)
