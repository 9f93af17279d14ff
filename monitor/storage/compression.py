"""Compression of stored content: zlib with a preset dictionary for short texts,
zstd for whole pages.

Snapshot files are a few KB each, too short for zlib to learn the markup and stock
phrases they all share; a preset dictionary of that boilerplate saves about 7 %.
Fetched pages are 100 KB and more: zstd (level 3) packs them about 10x faster than
zlib -9 and a little smaller (measured on the real pages of extraction-dev: 0.4 ms
against 3.8 ms per page, ratio 4.9 against 4.8), and it is on the writer's path of
every changed page. The first byte of a stored blob says how it was compressed, so
the choice can change later without rewriting old rows: a new one gets a new tag.
"""

from __future__ import annotations

import zlib

_TAG_PLAIN = b"\x00"
_TAG_DICT_1 = b"\x01"
_TAG_ZSTD = b"\x02"
_LONG = 16 * 1024  # from here on the dictionary no longer pays, and zlib is slow
# Never edit: blobs written with it must stay readable. Add a _DICT_2 instead.
_DICT_1 = (
    "<!--1700000000000-->\n[](https://cn.nytimes.com/)\n------\n\n"
    '<address></address><time pudate="2024-01-01 00:00:00" datetime="2024-01-01 00:00:00">'
    "2024年1月1日</time>"
    '<figure><img src="https://images.weserv.nl/?url=static01.nyt.com/images/2024/01/01/'
    'multimedia/-master1050.jpg" width="1050" height="700"><figcaption> <cite>for The New '
    "York Times</cite></figcaption></figure>"
    '<section><p><a rel="nofollow" target="_blank" href="https://cn.nytimes.com/"></a></p>'
    "<p><b></b></p></section>"
    "<footer><p>是《纽约时报》记者，报道新闻。点击查看更多关于他的信息。</p><p>对本文有报道贡献。</p>"
    "<p>翻译：纽约时报中文网</p><p>"
    '<a rel="nofollow" target="_blank" href="https://www.nytimes.com/2024/01/01/world/asia/'
    '.html">点击查看本文英文版。</a></p></footer>'
    "<p>“”，。、：；（）—— 中国 美国 政府 他们 我们 表示 说 的 了 在 是 和 与 对 这 一个 已经 可能 "
    "没有 因为 但是 特朗普 拜登 北京 香港 台湾 俄罗斯 乌克兰 经济 公司</p>"
).encode()


def pack(data: bytes) -> bytes:
    if len(data) >= _LONG:
        import zstandard  # here: reading a listing needs no compressor (CLI start-up)

        return _TAG_ZSTD + zstandard.ZstdCompressor(level=3).compress(data)
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, _DICT_1)
    return _TAG_DICT_1 + packer.compress(data) + packer.flush()


def unpack(blob: bytes) -> bytes:
    tag, body = blob[:1], blob[1:]
    if tag == _TAG_DICT_1:
        unpacker = zlib.decompressobj(15, _DICT_1)
        return unpacker.decompress(body) + unpacker.flush()
    if tag == _TAG_ZSTD:
        import zstandard

        return zstandard.ZstdDecompressor().decompress(body)
    if tag == _TAG_PLAIN:
        return zlib.decompress(body)
    raise ValueError(f"unknown blob format {tag!r}")
