"""The diff page and the email as a browser draws them (Debian's chromium, Playwright).

Checks what a reader sees: deletions on red, insertions on green, both drawn with a
size, a single struck-through CJK character included. Screenshots are saved for a
look by eye; their paths are printed (pytest -s shows them).
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.diffing.diff import diff_articles
from monitor.diffing.render import DiffHeader, render
from monitor.notify.email_body import EmailBody, as_document
from monitor.notify.messages import change_text
from support.articles import art

CHROMIUM = Path("/usr/bin/chromium")
_MISSING = [
    what
    for what, present in (
        ("chromium (apt-get install chromium)", CHROMIUM.exists()),
        ("playwright (pip install playwright)", importlib.util.find_spec("playwright")),
    )
    if not present
]
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"not installed: {', '.join(_MISSING)}")

HEADER = DiffHeader("预算调整", "https://cn.nytimes.com/a/", 1, 2, "", "")
OLD = art("项目花了5000多万元。", "这句话后来被删掉了。", "他说：好。")
NEW = art("项目花了6000多万元。", "他说：行。")
SLOW_MS = 120_000  # a loaded machine starts a browser slowly


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], timeout=SLOW_MS
        )
        try:
            yield launched
        finally:
            launched.close()


def _pages() -> dict[str, str]:
    diff = diff_articles(OLD, NEW)
    alert = change_text(HEADER, diff, "change", 10)
    email = as_document(alert.subject, [EmailBody(alert.html, alert.text)])
    return {
        "diff-page": render("html", HEADER, diff),
        "diff-side-by-side": render("html-side-by-side", HEADER, diff),
        "email": email.html,
    }


def _rgb(colour: str) -> tuple[int, int, int]:
    found = re.findall(r"\d+", colour)
    assert len(found) >= 3, colour
    red, green, blue = (int(x) for x in found[:3])
    return red, green, blue


_MEASURE = """
el => {
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(el);
  const glyphs = range.getBoundingClientRect();
  return {text: el.textContent, background: s.backgroundColor, display: s.display,
          visibility: s.visibility, line: s.textDecorationLine,
          thickness: s.textDecorationThickness, width: r.width, height: r.height,
          textWidth: glyphs.width};
}
"""


def _artifacts(tmp_path: Path) -> Path:
    where = Path(os.environ.get("MONITOR_TEST_ARTIFACTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.mark.parametrize("name", ["diff-page", "diff-side-by-side", "email"])
def test_deletions_and_insertions_are_drawn_red_and_green(
    browser: Any, name: str, tmp_path: Path
) -> None:
    document = _pages()[name]
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    try:
        page.set_default_timeout(SLOW_MS)
        page.set_content(document, wait_until="load")
        marks = {
            tag: [handle.evaluate(_MEASURE) for handle in page.query_selector_all(tag)]
            for tag in ("del", "ins")
        }
        shot = _artifacts(tmp_path) / f"{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
    finally:
        page.close()
    for mark in marks["del"] + marks["ins"]:
        assert mark["display"] != "none" and mark["visibility"] == "visible", mark
        assert mark["width"] > 0 and mark["height"] > 0, mark
    for mark in marks["del"]:
        red, green, blue = _rgb(mark["background"])
        assert red > green + 30 and red > blue + 30, mark  # red-ish
        assert "line-through" in mark["line"] and float(mark["thickness"][:-2]) >= 2, mark
    for mark in marks["ins"]:
        red, green, blue = _rgb(mark["background"])
        assert green > red + 30 and green > blue + 30, mark  # green-ish
    # A single struck-through CJK character: its mark is wider than the glyph (the
    # padding), so the red shows on both sides of it whatever the font.
    [single] = [m for m in marks["del"] if m["text"] == "好"]
    assert single["textWidth"] > 0 and single["width"] >= single["textWidth"] + 4, single
