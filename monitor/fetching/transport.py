"""An httpx transport over aiohttp's HTTP/1.1 client, trimmed to what a monitor needs.

httpx's own network layer costs about ten times the CPU of aiohttp per page; this
keeps httpx's Request/Response API above aiohttp's connection pool. What it leaves
out on purpose: cookies (every check is a fresh, stateless visit: no paywall meter,
no session that makes two checks differ), redirects (the Fetcher follows them, so
it sees every hop), proxies and request bodies (a monitor only sends GETs).

Bodies stay compressed here and httpx decodes them, so the Fetcher's cap counts
decoded bytes. A compressed body is handed over in small chunks: one chunk of a
gzip bomb must not inflate to hundreds of megabytes at once.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import aiohttp.abc
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from monitor.errors import FetchError
from monitor.fetching.addresses import AddressPolicy

COMPRESSED_CHUNK = 16 * 1024


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        compressed = "Content-Encoding" in self._response.headers
        chunks = content.iter_chunked(COMPRESSED_CHUNK) if compressed else content.iter_any()
        try:
            async for chunk in chunks:
                yield chunk
        except Exception as exc:
            raise _translate(exc) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session with a bounded keep-alive pool; GET only."""

    def __init__(
        self,
        max_connections: int,
        keepalive_expiry_s: float = 5.0,
        resolver: aiohttp.abc.AbstractResolver | None = None,
    ) -> None:
        self._max_connections = max_connections
        self._resolver = resolver
        self._keepalive_expiry_s = keepalive_expiry_s
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use: an aiohttp session belongs to the running event loop.
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            keepalive_timeout=self._keepalive_expiry_s,
            ttl_dns_cache=300,
            resolver=self._resolver,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )
        return self._session

    def _timeout(self, extensions: dict[str, object]) -> aiohttp.ClientTimeout:
        given = extensions.get("timeout") or {}
        assert isinstance(given, dict)
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            timeout = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            raise httpx.UnsupportedProtocol(f"only GET is supported, not {request.method}")
        session = self._session or self._open()
        try:
            response = await session.request(
                "GET",
                str(request.url),
                headers=request.headers.multi_items(),
                allow_redirects=False,
                timeout=self._timeout(request.extensions),
            )
        except Exception as exc:
            raise _translate(exc) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _translate(exc: Exception) -> Exception:
    """aiohttp's errors as the httpx errors the Fetcher classifies."""
    message = str(exc) or type(exc).__name__
    refused = getattr(exc, "os_error", None)
    if isinstance(refused, PrivateAddressRefused):
        return FetchError(str(refused))  # not transient: no retry will change it
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(message)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(message)  # malformed status line or headers
    if isinstance(exc, aiohttp.ClientError):
        return httpx.NetworkError(message)
    return exc


class PrivateAddressRefused(OSError):
    """Raised inside aiohttp's connector; the transport turns it into a FetchError."""


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing names that resolve to private addresses: checked
    on the very addresses the connection will use (no second lookup to race)."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        try:
            self._policy.check_addresses(host, port, [r["host"] for r in results])
        except FetchError as exc:
            raise PrivateAddressRefused(str(exc)) from exc
        return results

    async def close(self) -> None:
        await self._inner.close()
