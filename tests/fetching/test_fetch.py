from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest

from monitor.config import FetchSettings
from monitor.errors import FetchError
from monitor.fetching.charset import decode
from monitor.fetching.fetcher import Fetcher


def _run(
    settings: FetchSettings,
    handler: httpx.MockTransport,
    url: str = "http://a.test/x",
    sleeps: list[float] | None = None,
    **kw: str,
) -> object:
    recorded = sleeps if sleeps is not None else []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    async def go() -> object:
        async with Fetcher(
            settings, transport=handler, sleep=fake_sleep, clock=lambda: 100.0
        ) as fetcher:
            return await fetcher.fetch(url, **kw)

    return asyncio.run(go())


def test_gzip_bomb_is_cut_at_the_decoded_cap() -> None:
    bomb = gzip.compress(b"<p>" + b"a" * 3_000_000)
    transport = httpx.MockTransport(
        lambda r: httpx.Response(
            200, content=bomb, headers={"content-encoding": "gzip", "content-type": "text/html"}
        )
    )
    with pytest.raises(FetchError, match="larger than 1000000 bytes"):
        _run(FetchSettings(max_bytes=1_000_000), transport)


def test_retry_after_is_honoured_then_success() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "7"})
        return httpx.Response(200, text="<p>ok</p>", headers={"content-type": "text/html"})

    sleeps: list[float] = []
    page = _run(FetchSettings(per_host_delay_s=0), httpx.MockTransport(handler), sleeps=sleeps)
    assert sleeps == [7.0] and len(calls) == 2 and page.status == 200  # type: ignore[attr-defined]


def test_conditional_headers_are_sent_and_304_is_unchanged() -> None:
    seen: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(304)

    page = _run(
        FetchSettings(per_host_delay_s=0),
        httpx.MockTransport(handler),
        etag='"e1"',
        last_modified="Wed, 01 Jan 2025 00:00:00 GMT",
    )
    assert page.status == 304  # type: ignore[attr-defined]
    assert seen["if-none-match"] == '"e1"' and seen["if-modified-since"].startswith("Wed")
    assert seen["user-agent"].startswith("article-monitor/")


def test_404_is_not_retried_and_carries_its_status() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404)

    with pytest.raises(FetchError) as info:
        _run(FetchSettings(per_host_delay_s=0), httpx.MockTransport(handler))
    assert info.value.status == 404 and not info.value.transient and len(calls) == 1


def test_binary_content_type_is_refused() -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"})
    )
    with pytest.raises(FetchError, match="not an HTML page"):
        _run(FetchSettings(per_host_delay_s=0), transport)


def test_charset_order_header_meta_detection() -> None:
    gbk = '<meta charset="gb2312"><p>镕基</p>'.encode("gb18030")
    assert decode(None, gbk)[0] == "gb18030"  # <meta> gb2312, read as gb18030
    assert decode("GBK", b"")[0] == "gb18030"
    assert decode("utf-8", b"<p>ok</p>")[0] == "utf-8"  # the header wins when it fits
    assert decode("utf-8", gbk) == ("gb18030", gbk.decode("gb18030"))  # a lying header loses
    assert decode(None, gbk)[1].endswith("镕基</p>")


def test_per_host_delay_spaces_requests() -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, text="<p>x</p>", headers={"content-type": "text/html"})
    )
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def go() -> None:
        settings = FetchSettings(per_host_delay_s=2.0, per_host_concurrency=1)
        async with Fetcher(
            settings, transport=transport, sleep=fake_sleep, clock=lambda: 100.0
        ) as fetcher:
            await asyncio.gather(*(fetcher.fetch(f"http://a.test/{i}") for i in range(3)))
            await fetcher.fetch("http://b.test/other")

    asyncio.run(go())
    assert sorted(sleeps) == [2.0, 4.0]  # a.test waits its turn; b.test does not
