"""URL normalization: one article key for every variant of an article's URL.

The scheme is kept as given: a site served over plain HTTP (a local server, an
intranet) cannot be fetched over HTTPS. Only cn.nytimes.com, which serves every article
over HTTPS, has all its variants mapped to one https key."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from monitor.errors import UrlError

# Language/layout variants of one cn.nytimes.com article share its key.
_VARIANT_SUFFIX = re.compile(r"/(?:dual|zh-hant|zh-hans|zh-hk|zh-tw)/?$")
_NYT_HOSTS = {"cn.nytimes.com", "m.cn.nytimes.com", "cn.nytstyle.com"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize(url: str) -> str:
    """Return the canonical article URL; raise UrlError for what cannot be an article."""
    raw = url.strip()
    if not raw:
        raise UrlError("empty URL")
    if any(ch.isspace() for ch in raw):
        raise UrlError(f"URL contains whitespace: {raw!r}")
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UrlError(f"not an http(s) URL: {raw!r}")
    host = (parts.hostname or "").lower().rstrip(".")
    literal_v6 = ":" in host  # urlsplit strips the brackets of an IPv6 literal
    if literal_v6:
        try:
            host = ipaddress.IPv6Address(host).compressed
        except ValueError as exc:
            raise UrlError(f"URL has a bad IPv6 address: {raw!r}") from exc
    elif not host or ("." not in host and host != "localhost"):
        raise UrlError(f"URL has no valid host: {raw!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise UrlError(f"URL has a bad port: {raw!r}") from exc
    if host in _NYT_HOSTS:
        return _normalize_nyt_cn(parts.path)
    name = f"[{host}]" if literal_v6 else host
    netloc = name if port is None or port == _DEFAULT_PORTS[scheme] else f"{name}:{port}"
    path = parts.path or "/"
    # Ordinary sites: keep the query (it can identify an article) but drop tracking keys.
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    return urlunsplit((scheme, netloc, path, query, ""))


def _normalize_nyt_cn(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path or "/")
    while _VARIANT_SUFFIX.search(path):
        path = _VARIANT_SUFFIX.sub("/", path)
    if not path.endswith("/"):
        path += "/"
    return urlunsplit(("https", "cn.nytimes.com", path, "", ""))


def _is_tracking(param: str) -> bool:
    key = param.split("=", 1)[0].lower()
    return key.startswith("utm_") or key in {"fbclid", "gclid", "ref", "smid", "smtyp"}


def other_scheme(url: str) -> str:
    """A canonical URL with the other of http/https: the same article to a reader
    (sites move to HTTPS and redirect), though not to a fetcher."""
    scheme, rest = url.split("://", 1)
    return f"{'http' if scheme == 'https' else 'https'}://{rest}"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
