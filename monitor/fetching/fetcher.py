"""Fetching article pages through httpx's request/response API, with the rules a
polite, robust monitor needs.

- explicit timeouts, redirects followed up to a limit, a descriptive User-Agent;
- bounded overall concurrency, a per-host limit and a minimum delay per host;
- conditional GET (ETag / Last-Modified); a 304 is "unchanged" without parsing;
- a cap on the *decoded* body, counted while streaming (catches gzip bombs);
- charset from the header, then <meta>, then detection; gb2312/gbk read as gb18030;
- transient failures (timeouts, connection errors, 429, 5xx) retried with backoff,
  honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from monitor.config import FetchSettings, default_user_agent
from monitor.errors import FetchError
from monitor.fetching.addresses import AddressPolicy, Endpoint, resolved_addresses
from monitor.fetching.charset import decode

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)
_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16/32 text legitimately holds NULs


@dataclass(frozen=True)
class Page:
    status: int  # 200 or 304 (anything else is a FetchError)
    url: str  # final URL after redirects
    raw: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type header declares (worked out only when needed)."""
        match = _HEADER_CHARSET.search(self.content_type)
        return match.group(1) if match else None

    def text(self) -> str:
        """The decoded page; only pages that must be parsed pay for decoding."""
        return decode(self.charset, self.raw)[1]


@dataclass
class _HostGate:
    semaphore: asyncio.Semaphore
    next_slot: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


Sleep = Callable[[float], Awaitable[None]]


class Fetcher:
    def __init__(
        self,
        settings: FetchSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        trusted: frozenset[Endpoint] = frozenset(),
    ) -> None:
        self.settings = s = settings or FetchSettings()
        self.policy = AddressPolicy(s.allow_private_addresses, trusted)
        self.transport = transport or _transport(s, self.policy)
        # The aiohttp transport checks resolved addresses at connect time; over plain
        # httpx, names are resolved and checked just before each request instead.
        self._plain_httpx = transport is None and s.transport == "httpx"
        self._headers = httpx.Headers(
            {
                "User-Agent": s.user_agent or default_user_agent(),
                "Accept": "text/html,*/*;q=0.5",
                "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
                "Accept-Encoding": "gzip, deflate",
            }
        )
        self._extensions = {
            "timeout": httpx.Timeout(s.timeout_s, connect=s.connect_timeout_s).as_dict()
        }
        self._overall = asyncio.Semaphore(s.concurrency)
        self._hosts: dict[str, _HostGate] = {}
        self._sleep = sleep
        self._clock = clock

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> Page:
        """Fetch with retries for transient failures; raise FetchError otherwise."""
        attempt = 0
        while True:
            try:
                return await self._fetch_once(url, etag, last_modified)
            except FetchError as exc:
                if not exc.transient or attempt >= self.settings.retries:
                    raise
                delay = exc.retry_after or self.settings.backoff_s * 2**attempt
                attempt += 1
                await self._sleep(min(delay, self.settings.max_retry_after_s))

    async def _fetch_once(self, url: str, etag: str | None, last_modified: str | None) -> Page:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = urlsplit(url).hostname or ""  # cheaper than httpx.URL, on the hot path
        gate = self._gate(host)
        # The host's slot first, then a global one: a slow host only ever holds its own
        # per-host slots, never the global ones that other hosts' checks need.
        async with gate.semaphore:
            await self._wait_turn(gate)
            async with self._overall:
                try:
                    # httpx's timeouts are per read: a server trickling a byte a second
                    # never trips them, so the whole request has a deadline too.
                    async with asyncio.timeout(self.settings.total_timeout_s):
                        return await self._request(url, headers)
                except TimeoutError as exc:
                    limit = self.settings.total_timeout_s
                    raise FetchError(f"page took longer than {limit:g} s", transient=True) from exc

    def _gate(self, host: str) -> _HostGate:
        gate = self._hosts.get(host)
        if gate is None:
            gate = _HostGate(asyncio.Semaphore(max(1, self.settings.per_host_concurrency)))
            self._hosts[host] = gate
        return gate

    async def _wait_turn(self, gate: _HostGate) -> None:
        if self.settings.per_host_delay_s <= 0:
            return
        async with gate.lock:
            now = self._clock()
            wait = gate.next_slot - now
            gate.next_slot = max(now, gate.next_slot) + self.settings.per_host_delay_s
        if wait > 0:
            await self._sleep(wait)

    async def _request(self, url: str, conditional: dict[str, str]) -> Page:
        try:
            return await self._follow(url, conditional)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            kind = type(exc).__name__
            raise FetchError(f"{kind}: {exc or 'no detail'}", transient=True) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from exc

    async def _follow(self, url: str, conditional: dict[str, str]) -> Page:
        """GET, following redirects here rather than in a client: one hop is one
        transport call, and nothing else (cookies, auth, hooks) runs per request."""
        for _hop in range(self.settings.max_redirects + 1):
            await self._check_address(url)
            request = httpx.Request("GET", url, headers=self._headers)  # copied, not parsed
            request.headers.update(conditional)
            if self._plain_httpx and request.url.userinfo:
                # aiohttp sends a URL's user:password itself; httpx's transport does not.
                request.headers["Authorization"] = _basic_auth(request.url)
            request.extensions = self._extensions
            response = await self.transport.handle_async_request(request)
            response.request = request
            try:
                location = _redirect_target(response)
                if location is None:
                    return await self._read(response, url)
            finally:
                await response.aclose()
            url = location
        raise FetchError(f"too many redirects (limit {self.settings.max_redirects})")

    async def _check_address(self, url: str) -> None:
        """Refuse a hop to a private address (the first URL and every redirect)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self.policy.check_host(host, port)
        if self._plain_httpx and self.policy.applies_to(host, port):
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port)
            except OSError:
                return  # the request itself reports the lookup failure
            self.policy.check_addresses(host, port, resolved_addresses(infos))

    async def _read(self, response: httpx.Response, final_url: str) -> Page:
        status = response.status_code
        if status == 304:
            return Page(
                304,
                final_url,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
        if status == 429 or status >= 500:
            raise FetchError(
                f"HTTP {status}",
                transient=True,
                status=status,
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        if status != 200:
            raise FetchError(f"HTTP {status}", status=status)
        content_type = response.headers.get("content-type", "").lower()
        if content_type and not any(t in content_type for t in ("html", "xml", "text/plain")):
            raise FetchError(f"not an HTML page (Content-Type {content_type.split(';')[0]})")
        raw = await self._read_capped(response)
        if b"\x00" in raw[:4096] and not raw.startswith(_UNICODE_BOMS):
            raise FetchError("binary content, not an HTML page")
        return Page(
            200,
            final_url,
            raw,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            content_type=content_type,
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > self.settings.max_bytes:
                raise FetchError(f"page larger than {self.settings.max_bytes} bytes (decoded)")
            chunks.append(chunk)
        return b"".join(chunks)


_REDIRECTS = frozenset((301, 302, 303, 307, 308))


def _redirect_target(response: httpx.Response) -> str | None:
    """The absolute URL a redirect points to, or None when it is not a redirect."""
    if response.status_code not in _REDIRECTS or "location" not in response.headers:
        return None
    target = response.request.url.join(response.headers["location"])
    if target.scheme not in ("http", "https"):
        raise FetchError(f"redirect to a non-web URL: {str(target)[:200]}")
    return str(target.copy_with(fragment=None))


def _transport(settings: FetchSettings, policy: AddressPolicy) -> httpx.AsyncBaseTransport:
    """The same httpx API over either network layer; the benchmark picks the default."""
    connections = settings.concurrency * 2
    if settings.transport == "httpx":
        limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=settings.concurrency
        )
        return httpx.AsyncHTTPTransport(limits=limits)
    if settings.transport != "aiohttp":
        raise ValueError(f"unknown transport {settings.transport!r}")
    from monitor.fetching.transport import AiohttpTransport, GuardedResolver

    resolver = None if settings.allow_private_addresses else GuardedResolver(policy)
    return AiohttpTransport(max_connections=connections, resolver=resolver)


def _basic_auth(url: httpx.URL) -> str:
    import base64
    from urllib.parse import unquote

    user, _, password = url.userinfo.decode("ascii").partition(":")
    token = f"{unquote(user)}:{unquote(password)}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
