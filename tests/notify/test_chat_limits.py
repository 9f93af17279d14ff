"""Chat messages fit each service's limit, shortened by whole blocks, markers intact."""

from __future__ import annotations

import re

import apprise
import pytest

from monitor.diffing.diff import diff_articles
from monitor.diffing.render import DiffHeader, md_escape
from monitor.notify.chat import cut, fit_markdown
from monitor.notify.messages import change_text
from monitor.notify.sending import chat_limit
from support.articles import art

URL = "https://cn.nytimes.com/world/20240101/long_(story)/"
TELEGRAM = "tgram://123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ/987654321"
DISCORD = "discord://123456789/abcdefghijklmnopqrstuvwxyz"
# A marker, or an escape, split anywhere would leave one of these unbalanced.
_MARKERS = re.compile(r"\\.|~~|\*\*")


def _message(paragraphs: int, size: int, max_blocks: int = 1000) -> str:
    old = [f"第{i}段" + "旧文" * size + "。" for i in range(paragraphs)]
    new = [f"第{i}段" + "新*文_" * size + "。" for i in range(paragraphs)]
    header = DiffHeader("标题 [x]", URL, 1, 2, "", "")
    return change_text(header, diff_articles(art(*old), art(*new)), "change", max_blocks).markdown


def _balanced(text: str) -> bool:
    markers = [m for m in _MARKERS.findall(text) if not m.startswith("\\")]
    return markers.count("~~") % 2 == 0 and markers.count("**") % 2 == 0


def _ends_cleanly(text: str) -> bool:
    """No dangling escape: a backslash always has the character it escapes."""
    return not re.search(r"(?<!\\)(\\\\)*\\$", text.rstrip("\n …"))


@pytest.mark.parametrize(("url", "limit"), [(TELEGRAM, 4096), (DISCORD, 2000)])
def test_the_limit_is_the_services_own(url: str, limit: int) -> None:
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None and plugin.body_maxlen == limit
    subject = "[changed: body] 标题"
    assert limit - len(subject) - 20 <= chat_limit(plugin, subject) <= limit


@pytest.mark.parametrize("limit", [4096, 2000])
def test_many_blocks_are_trimmed_whole_with_a_note(limit: int) -> None:
    text = _message(paragraphs=60, size=10)
    assert len(text) > limit
    fitted = fit_markdown(text, limit)
    assert len(fitted) <= limit
    assert _balanced(fitted) and _ends_cleanly(fitted)
    shown = re.findall(r"^\*paragraph (\d+)\* \(edit\):$", fitted, re.MULTILINE)
    assert shown and shown == [str(i) for i in range(1, len(shown) + 1)]  # from the top
    # Every block shown is whole: its quote is the same line as in the full message.
    for number in shown:
        block = re.search(rf"\*paragraph {number}\* \(edit\):\n\n(> .*)\n", fitted)
        assert block and block.group(1) in text.splitlines()
    note = md_escape(f"… {60 - len(shown)} more changed blocks: monitor diff ")
    assert (
        note in fitted
        and md_escape("'https://cn.nytimes.com/world/20240101/long_(story)/'") in fitted
    )


@pytest.mark.parametrize("limit", [4096, 2000])
def test_one_huge_block_is_cut_between_markers(limit: int) -> None:
    text = _message(paragraphs=2, size=1500)
    fitted = fit_markdown(text, limit)
    assert len(fitted) <= limit
    assert _balanced(fitted) and _ends_cleanly(fitted)
    assert "*paragraph 1* (edit):" in fitted and "1 more changed blocks" in fitted
    assert "~~" in fitted and "**" in fitted  # the edit itself is still shown


def test_an_already_short_message_is_untouched() -> None:
    text = _message(paragraphs=2, size=3)
    assert fit_markdown(text, 4096) == text


def test_a_limited_message_keeps_counting_what_was_already_left_out() -> None:
    text = _message(paragraphs=30, size=40, max_blocks=10)  # 20 left out when queued
    assert "20 more changed blocks not shown" in text
    fitted = fit_markdown(text, 2000)
    shown = len(re.findall(r"^\*paragraph \d+\*", fitted, re.MULTILINE))
    assert md_escape(f"… {30 - shown} more changed blocks") in fitted


@pytest.mark.parametrize("limit", range(6, 60))
def test_cut_never_splits_a_marker_or_an_escape(limit: int) -> None:
    text = "前文 ~~删\\*掉~~ **加\\_上** 后文 \\[x\\] ~~再删~~**再加**"
    out = cut(text, limit)
    assert len(out) <= limit
    assert _balanced(out) and _ends_cleanly(out)
    assert "~~~~" not in out and "****" not in out


@pytest.mark.parametrize("limit", [4096, 2000])
def test_a_digest_keeps_every_alerts_title_and_link(limit: int) -> None:
    """Trimming a digest trims each alert, never one alert into the next."""
    from monitor.notify.chat import DIGEST_SEPARATOR, fit_digest

    first, second = _message(paragraphs=6, size=40), _message(paragraphs=6, size=40)
    second = second.replace(md_escape("标题 [x]"), md_escape("第二篇"))
    digest = DIGEST_SEPARATOR.join([first, second])
    assert len(digest) > limit
    fitted = fit_digest(digest, limit)
    assert len(fitted) <= limit
    one, two = fitted.split(DIGEST_SEPARATOR)
    assert one.startswith(first.split("\n", 1)[0])  # each alert's title line and link
    assert two.startswith(second.split("\n", 1)[0]) and "第二篇" in two
    assert _balanced(one) and _balanced(two) and _ends_cleanly(one)
    assert "more changed blocks" in one and "more changed blocks" in two


def test_a_digest_of_too_many_alerts_says_how_many_were_left_out() -> None:
    from monitor.notify.chat import DIGEST_SEPARATOR, fit_digest

    alerts = [_message(paragraphs=2, size=30) for _ in range(20)]
    fitted = fit_digest(DIGEST_SEPARATOR.join(alerts), 2000)
    assert len(fitted) <= 2000
    assert fitted.endswith(md_escape("… 14 more changed articles in this digest"))
