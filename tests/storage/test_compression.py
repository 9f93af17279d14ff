"""Stored content: compressed, and the old format still reads."""

from __future__ import annotations

import zlib

from monitor.storage.compression import pack, unpack
from support.corpus import BIDEN_OLD


def test_compressed_content_round_trips_and_old_format_reads() -> None:
    text = BIDEN_OLD.read_bytes()
    packed = pack(text)
    assert unpack(packed) == text and len(packed) < len(zlib.compress(text, 9))
    assert unpack(b"\x00" + zlib.compress(b"plain")) == b"plain"
