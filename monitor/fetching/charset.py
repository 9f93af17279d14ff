"""Which text encoding a page is in: the header, then <meta>, then detection.

Kept apart from the fetching code so the processes that parse pages need not load
an HTTP client.
"""

from __future__ import annotations

import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_ENCODING_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
}


def decode(header_charset: str | None, raw: bytes) -> tuple[str, str]:
    """Decode a page; a declared charset that does not fit the bytes is ignored."""
    candidates = [_usable(header_charset), _usable(meta_charset(raw))]
    for name in candidates:
        if name:
            try:
                return name, raw.decode(name)
            except UnicodeDecodeError:
                continue  # a lying header or <meta>: try the next source
    detected = _detect(raw)
    return detected, raw.decode(detected, errors="replace")


def _detect(raw: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:65536]).best()
    return _usable(best.encoding if best else None) or "utf-8"


def meta_charset(raw: bytes) -> str | None:
    match = _META_CHARSET.search(raw[:8192])
    return match.group(1).decode("ascii", "ignore") if match else None


def _usable(name: str | None) -> str | None:
    if not name:
        return None
    import codecs

    lowered = name.strip().lower()
    lowered = _ENCODING_ALIASES.get(lowered, lowered)
    try:
        canonical = codecs.lookup(lowered).name
    except LookupError:
        return None
    return _ENCODING_ALIASES.get(canonical, canonical)
