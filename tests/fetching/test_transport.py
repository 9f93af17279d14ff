"""The fetch layer over both network layers, against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from monitor.config import FetchSettings
from monitor.errors import FetchError
from monitor.fetching.fetcher import Fetcher, Page
from support.server import PageServer, Route, page_server

TRANSPORTS = ["aiohttp", "httpx"]


def _fetch(transport: str, url: str, **kw: str | None) -> Page:
    settings = FetchSettings(
        per_host_delay_s=0, retries=0, transport=transport, allow_private_addresses=True
    )

    async def go() -> Page:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(url, **kw)  # type: ignore[arg-type]

    return asyncio.run(go())


def _set_cookie_then_page(server: PageServer) -> None:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        cookie = handler.headers.get("Cookie")
        body = f"<html><body><p>cookie={cookie}</p></body></html>".encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Set-Cookie", "meter=1; Path=/")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server.routes["/cookie"] = Route(custom=respond)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_relative_redirects_are_followed_and_the_final_url_reported(transport: str) -> None:
    with page_server() as server:
        server.routes["/old"] = Route(redirect_to="/mid")
        server.routes["/mid"] = Route(redirect_to=f"{server.base}new#frag")
        server.routes["/new"] = Route(body=b"<html><body><p>here</p></body></html>")
        page = _fetch(transport, server.base + "old")
    assert page.status == 200 and page.url == server.base + "new"
    assert b"here" in page.raw and server.hits == ["/old", "/mid", "/new"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_redirect_loops_and_non_web_targets_are_clear_errors(transport: str) -> None:
    with page_server() as server:
        server.routes["/a"] = Route(redirect_to="/b")
        server.routes["/b"] = Route(redirect_to="/a")
        server.routes["/ftp"] = Route(redirect_to="ftp://example.org/file")
        with pytest.raises(FetchError, match=r"too many redirects \(limit 5\)"):
            _fetch(transport, server.base + "a")
        with pytest.raises(FetchError, match=r"redirect to a non-web URL: ftp://example\.org/file"):
            _fetch(transport, server.base + "ftp")
        assert len(server.hits) == 6 + 1  # the first request and five redirects, then /ftp


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_check_is_a_fresh_visit_without_cookies(transport: str) -> None:
    async def twice(url: str) -> list[Page]:
        settings = FetchSettings(
            per_host_delay_s=0, retries=0, transport=transport, allow_private_addresses=True
        )
        async with Fetcher(settings) as fetcher:
            return [await fetcher.fetch(url), await fetcher.fetch(url)]

    with page_server() as server:
        _set_cookie_then_page(server)
        pages = asyncio.run(twice(server.base + "cookie"))
    assert [b"cookie=None" in p.raw for p in pages] == [True, True]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_gzip_is_decoded_and_validators_and_charset_come_through(transport: str) -> None:
    html = "<html><body><p>镕基</p></body></html>".encode("gb18030")

    def respond(handler: BaseHTTPRequestHandler) -> None:
        body = gzip.compress(html)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=GBK")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("ETag", '"v1"')
        handler.send_header("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with page_server() as server:
        server.routes["/gz"] = Route(custom=respond)
        page = _fetch(transport, server.base + "gz")
    assert page.raw == html and page.etag == '"v1"' and page.last_modified.startswith("Wed")  # type: ignore[union-attr]
    assert page.charset == "gbk" and page.text().endswith("镕基</p></body></html>")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_304_keeps_the_validators(transport: str) -> None:
    with page_server() as server:
        server.routes["/p"] = Route(body=b"<p>x</p>", etag='"e7"')
        page = _fetch(transport, server.base + "p", etag='"e7"')
    assert page.status == 304 and page.etag == '"e7"' and page.raw == b""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_refused_connection_is_a_transient_error(transport: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(FetchError) as info:
            _fetch(transport, f"http://127.0.0.1:{port}/x")
    assert info.value.transient and "ConnectError" in str(info.value)


def test_only_get_goes_through_the_aiohttp_transport() -> None:
    from monitor.fetching.transport import AiohttpTransport

    async def go() -> None:
        transport = AiohttpTransport(max_connections=1)
        try:
            await transport.handle_async_request(httpx.Request("POST", "http://127.0.0.1:1/"))
        finally:
            await transport.aclose()

    with pytest.raises(httpx.UnsupportedProtocol, match="only GET"):
        asyncio.run(go())
