from __future__ import annotations

import dataclasses
import json
import random
import re

import pytest

from monitor.article import Article, Block
from monitor.diffing.diff import diff_articles
from monitor.diffing.render import DiffHeader, render
from support.articles import art, hostile_diff
from support.corpus import BIDEN_NEW, BIDEN_OLD, MENG_NEW, MENG_OLD, YEN_NEW, YEN_OLD, load_article


def _edits(old: Article, new: Article) -> list[tuple[str, str, str]]:
    out = []
    for change in diff_articles(old, new).changes:
        removed = "".join(t for op, t in change.segments if op < 0)
        added = "".join(t for op, t in change.segments if op > 0)
        out.append((change.section, removed, added))
    return out


def _apply(segments: list[tuple[int, str]], side: int) -> str:
    return "".join(t for op, t in segments if op in (0, side))


def test_biden_pair_is_exactly_two_word_fixes() -> None:
    old, new = load_article(BIDEN_OLD), load_article(BIDEN_NEW)
    result = diff_articles(old, new)
    assert result.kinds == ["body"]
    assert len(result.changes) == 2
    first, second = result.changes
    assert "奥马巴参与" in first.old and "奥巴马参与" in first.new
    assert "真正让我觉得好笑的是" in second.old and "真正让我绷不住的是" in second.new
    for change in result.changes:
        assert change.section == "body" and change.op == "edit"
        assert _apply(change.segments, -1) == change.old
        assert _apply(change.segments, 1) == change.new
    assert _edits(old, new)[1] == ("body", "觉得好笑", "绷不住")
    assert old.pudate != new.pudate


def test_yen_pair_is_footer_only() -> None:
    result = diff_articles(load_article(YEN_OLD), load_article(YEN_NEW))
    assert result.kinds == ["footer"]
    assert {c.section for c in result.changes} == {"footer"}


def test_layout_change_with_one_name_fix_is_only_the_name() -> None:
    assert _edits(load_article(MENG_OLD), load_article(MENG_NEW)) == [("body", "沃尔", "弗")]


def test_kinds_for_each_part() -> None:
    base = art("第一段。", "第二段。")
    assert diff_articles(base, art("第一段。", "第二段。", title="新标题")).kinds == ["title"]
    assert diff_articles(base, art("第一段。", "第二段。", byline="C D")).kinds == ["byline"]
    assert diff_articles(base, art("第一段。", "第二段。", footer="翻译：X")).kinds == ["footer"]
    assert diff_articles(base, art("第一段。")).kinds == ["body"]
    assert diff_articles(base, art("第一段。", "第二段。", "第三段。")).kinds == ["body"]
    assert diff_articles(base, art("第一段，", "第二段。")).kinds == ["minor"]
    assert diff_articles(base, art("第一段。", "第二段。", pudate="2024-02-02 00:00:00")).kinds == [
        "metadata"
    ]
    corrected = art("2025年1月7日更正：本文此前错误地写了日期。", "第一段。", "第二段。")
    assert diff_articles(base, corrected).kinds == ["body", "correction"]


def test_image_caption_change() -> None:
    base = dataclasses.replace(
        art("段。"), body=(Block("img", "旧说明", "https://i/x.jpg"), Block("p", "段。"))
    )
    new = dataclasses.replace(
        base, body=(Block("img", "新说明", "https://i/x.jpg"), Block("p", "段。"))
    )
    assert diff_articles(base, new).kinds == ["image"]


def test_counts_are_characters() -> None:
    result = diff_articles(art("甲乙丙丁。"), art("甲乙戊丁。"))
    assert (result.chars_added, result.chars_removed) == (1, 1)


def _long_chinese(seed: int, sentences: int) -> str:
    rng = random.Random(seed)
    chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"  # noqa: E501
    return "".join(
        "".join(rng.choice(chars) for _ in range(rng.randint(20, 60))) + "。"
        for _ in range(sentences)
    )


def test_heavy_rewrite_of_a_long_article_reads_as_block_changes() -> None:
    old = art(*[_long_chinese(i, 8) for i in range(12)])
    new = art(*[_long_chinese(100 + i, 8) for i in range(12)])
    result = diff_articles(old, new)
    assert result.kinds == ["body"]
    # Nearly everything is replaced (only stray shared characters survive), and the
    # segments still rebuild both sides exactly.
    assert result.chars_removed >= 0.97 * sum(len(b.text) for b in old.body)
    assert result.chars_added >= 0.97 * sum(len(b.text) for b in new.body)
    for change in result.changes:
        assert _apply(change.segments, -1) == change.old
        assert _apply(change.segments, 1) == change.new


def test_small_edit_inside_a_long_paragraph() -> None:
    paragraph = _long_chinese(7, 30)
    edited = paragraph.replace(paragraph[400:404], "改动")
    result = diff_articles(art(paragraph), art(edited))
    assert len(result.changes) == 1
    assert result.chars_removed == 4 and result.chars_added == 2


def _header() -> DiffHeader:
    return DiffHeader("标题 <b>&", "https://cn.nytimes.com/a/", 1, 2, "x", "y")


def test_renderers_escape_article_text() -> None:
    old, new = art("<script>alert(1)</script> 旧"), art("<script>alert(1)</script> 新")
    result = diff_articles(old, new)
    html_out = render("html", _header(), result)
    assert "<script>" not in html_out and "&lt;script&gt;" in html_out
    assert re.search(r"<del style=\"[^\"]*\">旧</del>", html_out)
    assert re.search(r"<ins style=\"[^\"]*\">新</ins>", html_out)
    assert "标题 &lt;b&gt;&amp;" in html_out
    md = render("markdown", _header(), result)
    assert "~~旧~~**新**" in md and "\\<script\\>" in md
    text = render("text", _header(), result)
    assert "[-旧-]{+新+}" in text
    assert "last-modified: x -> y" in text
    data = json.loads(render("json", _header(), result))
    assert data["kinds"] == ["body"] and data["changes"][0]["segments"][-1] == [1, "新"]
    assert "\x1b[" in render("terminal", _header(), result)


def test_long_diffs_are_trimmed_with_a_note() -> None:
    old = art(*[f"第{i}段。" for i in range(30)])
    new = art(*[f"第{i}段！改" for i in range(30)])
    out = render("text", _header(), diff_articles(old, new), limit=5)
    assert "25 more changed blocks not shown" in out


@pytest.mark.parametrize("fmt", ["terminal", "text", "markdown", "html", "html-side-by-side"])
def test_hostile_article_text_is_inert_in_every_renderer(fmt: str) -> None:
    header, result = hostile_diff()
    out = render(fmt, header, result)
    own_styles = re.sub(r"\x1b\[[0-9;]*m", "", out) if fmt == "terminal" else out
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", own_styles)
    shown = out.replace("\\\\", "\\").replace("\\[", "[").replace("\\.", ".")  # markdown
    assert "\\u001b[2J" in shown and "\\u202egnp.exe" in shown  # shown, not obeyed
    if fmt.startswith("html"):
        # the title stays one line: in the page's <title> and in its heading
        assert re.search(r"<title>[^\n]*Bcc[^\n]*</title>", out)
        assert re.search(r"<h1[^>]*><a [^>]*>[^\n]*Bcc[^\n]*</a></h1>", out)
        assert "<script>" not in out and "&lt;script&gt;" in out
    else:
        assert "\n".join(out.splitlines()[:2]).count("Bcc") == 1  # the title stays one line
    if fmt == "markdown":
        assert "\\*\\*b\\*\\*" in out and "\\[x\\]\\(javascript:alert\\(1\\)\\)" in out
        assert "(https://cn.nytimes.com/a_%28b%29/)" in out  # the link cannot end early
    assert out.count("长") >= 200_000  # the CLI shows the whole paragraph


def test_a_small_fix_in_a_huge_paragraph_is_shown_as_that_fix() -> None:
    from monitor.diffing.diff import char_diff

    side = "长" * 50_000  # no sentence end anywhere: sentence alignment cannot help
    segments = char_diff(side + "旧" + side, side + "新闻" + side)
    assert segments == [(0, side), (-1, "旧"), (1, "新闻"), (0, side)]
    assert char_diff("同" * 400, "同" * 400 + "加") == [(0, "同" * 400), (1, "加")]
