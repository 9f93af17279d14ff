"""Hostile snapshot files: one clear error or an exact round trip, never a crash.

The property-based tests run as many examples as the Hypothesis profile says
(HYPOTHESIS_PROFILE, "quick" by default; see tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import SnapshotError
from monitor.snapshot import parse, read_file

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
lines = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80)


@FUZZ
@given(st.text(max_size=400))
def test_parser_never_crashes_on_any_text(text: str) -> None:
    try:
        parse(text, "fuzz.md")
    except SnapshotError as exc:
        assert str(exc).startswith("fuzz.md:") and "\n" not in str(exc)


@FUZZ
@given(st.integers(min_value=0, max_value=10**15), lines, lines, lines)
def test_parser_round_trips_or_rejects_near_valid_files(
    ts: int, title: str, url_tail: str, html: str
) -> None:
    text = f"<!--{ts}-->\n[{title}](https://cn.nytimes.com/{url_tail})\n------\n\n{html}\n"
    try:
        snap = parse(text, "f.md")
    except SnapshotError as exc:
        assert exc.line in (1, 2, 3, 4, 5, 6) and exc.message
    else:
        assert snap.render() == text


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe\x00",
        b"<!--1-->\r\n[t](https://a.b/)\r\n",
        "<!--1-->\n[t](https://a.b/)\n------\n\n<p>x</p>\n".encode("utf-16"),
    ],
)
def test_odd_files_are_clear_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "odd.md"
    path.write_bytes(data)
    with pytest.raises(SnapshotError) as info:
        read_file(path)
    assert str(info.value).startswith(f"{path}:")
