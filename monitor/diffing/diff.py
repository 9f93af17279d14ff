"""Diffs between two versions of an article, and what kind of change they are.

Blocks (title, byline, paragraphs, images, footer lines) are aligned first; only
blocks that changed get a character diff (diff-match-patch with semantic cleanup),
and long blocks are split into sentences before that, so a heavy rewrite of a long
Chinese article stays fast and readable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal

from diff_match_patch import diff_match_patch

from monitor.article import Article

Op = Literal["insert", "delete", "edit"]
Segment = tuple[int, str]  # (-1 removed | 0 kept | 1 added, text)

CONTENT_KINDS = ("title", "byline", "body", "image", "footer", "correction")
ALL_KINDS = (*CONTENT_KINDS, "metadata", "minor", "first", "revert", "removed", "restored")
SECTION_KIND = {
    "title": "title",
    "byline": "byline",
    "date": "byline",
    "image": "image",
    "body": "body",
    "subhead": "body",
    "footer": "footer",
}
CORRECTION = re.compile(
    r"(更正|更新：|更新:|编者按|編者按|此前版本|此前的版本|Correction|Editors’ Note|Editor's Note)"
)
SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
LONG_BLOCK = 300
PAIR_SIMILARITY = 0.35
_SPACE = re.compile(r"\s+")


@dataclass
class BlockChange:
    section: str
    op: Op
    old_index: int | None
    new_index: int | None
    old: str
    new: str
    segments: list[Segment] = field(default_factory=list)
    minor: bool = False

    @property
    def added(self) -> int:
        return sum(len(t) for o, t in self.segments if o == 1)

    @property
    def removed(self) -> int:
        return sum(len(t) for o, t in self.segments if o == -1)


@dataclass
class ArticleDiff:
    changes: list[BlockChange]
    kinds: list[str]
    chars_added: int
    chars_removed: int
    old_lines: list[tuple[str, str]]
    new_lines: list[tuple[str, str]]


def diff_articles(old: Article, new: Article) -> ArticleDiff:
    old_lines, new_lines = old.lines(), new.lines()
    changes = align(old_lines, new_lines)
    kinds = classify(changes, old, new)
    return ArticleDiff(
        changes=changes,
        kinds=kinds,
        chars_added=sum(c.added for c in changes if not c.minor),
        chars_removed=sum(c.removed for c in changes if not c.minor),
        old_lines=old_lines,
        new_lines=new_lines,
    )


def align(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[BlockChange]:
    old_keys = [_key(s, t) for s, t in old]
    new_keys = [_key(s, t) for s, t in new]
    matcher = SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    changes: list[BlockChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        changes.extend(_pair_region(old, new, range(i1, i2), range(j1, j2)))
    return changes


def _key(section: str, text: str) -> str:
    return section + "\t" + _SPACE.sub("", text)


def _pair_region(
    old: list[tuple[str, str]], new: list[tuple[str, str]], old_range: range, new_range: range
) -> list[BlockChange]:
    """Pair changed blocks in order by similarity; the unpaired were added or removed."""
    pairs = list(zip(old_range, new_range, strict=False))
    if len(old_range) == len(new_range) and all(
        SECTION_KIND[old[i][0]] == SECTION_KIND[new[j][0]] for i, j in pairs
    ):
        # Same shape on both sides: block i became block j.
        return [_edit(old[i][0], i, j, old[i][1], new[j][1]) for i, j in pairs]
    out: list[BlockChange] = []
    next_new = new_range.start
    for i in old_range:
        section, text = old[i]
        match = _best_match(section, text, new, range(next_new, new_range.stop))
        if match is None:
            out.append(BlockChange(section, "delete", i, None, text, "", [(-1, text)]))
            continue
        for j in range(next_new, match):
            out.append(_insertion(new, j))
        out.append(_edit(section, i, match, text, new[match][1]))
        next_new = match + 1
    out.extend(_insertion(new, j) for j in range(next_new, new_range.stop))
    return out


def _best_match(
    section: str, text: str, new: list[tuple[str, str]], candidates: range
) -> int | None:
    best, best_score = None, PAIR_SIMILARITY
    for j in candidates:
        new_section, new_text = new[j]
        if SECTION_KIND[new_section] != SECTION_KIND[section]:
            continue
        matcher = SequenceMatcher(None, text, new_text, autojunk=False)
        if matcher.real_quick_ratio() <= best_score or matcher.quick_ratio() <= best_score:
            continue
        score = matcher.ratio()
        if score > best_score:
            best, best_score = j, score
    return best


def _insertion(new: list[tuple[str, str]], j: int) -> BlockChange:
    section, text = new[j]
    return BlockChange(section, "insert", None, j, "", text, [(1, text)])


def _edit(section: str, i: int, j: int, old_text: str, new_text: str) -> BlockChange:
    segments = char_diff(old_text, new_text)
    minor = _squeeze_punct(old_text) == _squeeze_punct(new_text)
    return BlockChange(section, "edit", i, j, old_text, new_text, segments, minor)


def char_diff(old: str, new: str) -> list[Segment]:
    if len(old) <= LONG_BLOCK and len(new) <= LONG_BLOCK:
        return _dmp_diff(old, new)
    # A long block: set aside what is the same at both ends first, so a one-word fix
    # in a paragraph with no sentence ends is still shown as that word.
    head = _common_prefix(old, new)
    tail = _common_prefix(old[head:][::-1], new[head:][::-1])
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    if len(old_mid) > LONG_BLOCK or len(new_mid) > LONG_BLOCK:
        middle = _sentence_diff(old_mid, new_mid)
    else:
        middle = _dmp_diff(old_mid, new_mid)
    ends = [(0, old[:head]), *middle, (0, old[len(old) - tail :])]
    return _merge([(op, text) for op, text in ends if text])


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, by bisection: slice comparisons run in C."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _dmp_diff(old: str, new: str) -> list[Segment]:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0.5
    diffs = dmp.diff_main(old, new, False)
    dmp.diff_cleanupSemantic(diffs)
    return [(op, text) for op, text in diffs if text]


def _sentence_diff(old: str, new: str) -> list[Segment]:
    old_s = [s for s in SENTENCE_END.split(old) if s]
    new_s = [s for s in SENTENCE_END.split(new) if s]
    out: list[Segment] = []
    matcher = SequenceMatcher(None, old_s, new_s, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        a, b = "".join(old_s[i1:i2]), "".join(new_s[j1:j2])
        if tag == "equal":
            out.append((0, a))
        elif tag == "replace" and len(a) + len(b) < 4 * LONG_BLOCK:
            out.extend(_dmp_diff(a, b))
        else:
            out.extend(seg for seg in ((-1, a), (1, b)) if seg[1])
    return _merge(out)


def _merge(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for op, text in segments:
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def _squeeze_punct(text: str) -> str:
    return "".join(
        ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P")
    )


def classify(changes: list[BlockChange], old: Article, new: Article) -> list[str]:
    kinds: set[str] = set()
    for change in changes:
        if change.minor:
            kinds.add("minor")
            continue
        kinds.add(SECTION_KIND[change.section])
        if change.section in ("body", "subhead", "footer") and _is_new_correction(change):
            kinds.add("correction")
    if kinds - {"minor"}:
        kinds.discard("minor")
    if not kinds:
        kinds.add("metadata" if old.pudate != new.pudate else "minor")
    return [k for k in ALL_KINDS if k in kinds]


def _is_new_correction(change: BlockChange) -> bool:
    found_new = {m.group(0) for m in CORRECTION.finditer(change.new)}
    found_old = {m.group(0) for m in CORRECTION.finditer(change.old)}
    return bool(found_new - found_old)
