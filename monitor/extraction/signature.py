"""The unchanged fast path: a signature of exactly what an extractor reads.

A check whose page has the same signature as last time has the same article, so it
is unchanged without the block walk, canonical text and comparison. The signature is
taken from the parsed page, not its bytes: the nodes the site's extractor reads, found
the way it finds them, serialized after dropping what extraction provably ignores
inside them (scripts, styles, comments). Rotating ads between paragraphs, tokens,
timestamps in inline scripts, extra classes or attribute order on the article element
do not move it; any change to what the extractor reads does, and then the full path
runs. Tests hold it to that: over every corpus page and variant, the fast verdict is
the full verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from selectolax.lexbor import LexborNode

# Inside a node the extractor reads, these are skipped by every extraction step.
_IGNORED_INSIDE = ("script", "style")


def drop_ignored(node: LexborNode) -> None:
    """Remove the scripts, styles and comments under `node`. Call it only after every
    node the extractor reads has been found: they are what it skips once found."""
    for inner in node.css(", ".join(_IGNORED_INSIDE)):
        inner.decompose()
    for comment in [n for n in node.traverse(include_text=True) if n.tag == "-comment"]:
        comment.decompose()


def serialize(node: LexborNode | None) -> str:
    """A node's HTML (after drop_ignored on a node holding it)."""
    return "-" if node is None else node.html or ""


def digest(parts: Iterable[str], version: str) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        hasher.update(part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\0")
    hasher.update(version.encode())
    return hasher.hexdigest()
