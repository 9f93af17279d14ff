"""Notification messages: article text is shown inert, and short around the edit."""

from __future__ import annotations

import re

from monitor.config import Config
from monitor.notify.messages import change_text, plain_text
from support.articles import HOSTILE, hostile_diff


def test_hostile_article_text_is_inert_and_short_in_notifications() -> None:
    header, result = hostile_diff()
    alert = change_text(header, result, "change", Config().notify.max_diff_blocks)
    assert "\n" not in alert.subject and "\r" not in alert.subject
    assert "\x1b" not in alert.subject and len(alert.subject) <= 200
    for body in (alert.markdown, alert.html, alert.text):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", body)
        words = re.sub(r' style="[^"]*"', "", body)  # the HTML's inline styles aside
        assert len(words) < 2_000  # the edit in its context, not 200,000 characters
        assert "旧" in body and "新" in body
    assert "<script>" not in alert.html and "\\<script\\>" in alert.markdown
    assert "[-旧-]{+新+}" in alert.text.replace(" ", "")
    removed = plain_text("[removed] " + header.title, header.title, header.url, [HOSTILE])
    assert "<script>" not in removed.html and "\\<script\\>" in removed.markdown
    assert "\n" not in removed.subject and "\x1b" not in removed.markdown + removed.html
