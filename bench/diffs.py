"""Diff time over real edit pairs, synthetic small edits and heavy rewrites."""

from __future__ import annotations

import dataclasses
import itertools
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.report import Table, verdict
from bench.site import ROOT, base_articles
from monitor.article import Article, Block
from monitor.diffing.diff import diff_articles
from monitor.extraction.feed import article_from_snapshot
from monitor.snapshot import read_file
from monitor.urls import normalize

HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"  # noqa: E501


def real_pairs() -> list[tuple[Article, Article]]:
    shared = ROOT.parent / "shared" / "corpus"
    pairs = []
    if (shared / "versions.tsv").exists():
        for line in (shared / "versions.tsv").read_text().splitlines()[1:]:
            files = line.split("\t")[2].split(",")
            chain = [_load(shared / f) for f in files]
            pairs += list(itertools.pairwise(chain))
    else:
        data = ROOT / "tests" / "data" / "corpus"
        for old, new in (("1042628", "1042597"), ("1042600", "1042532"), ("1047301", "1046447")):
            pairs.append((_load(data / f"{old}.md"), _load(data / f"{new}.md")))
    return pairs


def _load(path: Path) -> Article:
    snap, _ = read_file(path)
    return article_from_snapshot(snap, normalize(snap.url))


def small_edit(article: Article, rng: random.Random) -> Article:
    body = list(article.body)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(body))
        text = body[i].text
        if len(text) < 4:
            continue
        at = rng.randrange(len(text) - 2)
        replacement = "".join(rng.choice(HANZI) for _ in range(rng.randint(1, 4)))
        body[i] = dataclasses.replace(body[i], text=text[:at] + replacement + text[at + 2 :])
    return dataclasses.replace(article, body=tuple(body))


def heavy_rewrite(article: Article, rng: random.Random) -> Article:
    body = []
    for block in article.body:
        if block.kind == "p" and rng.random() < 0.8:
            sentences = max(1, len(block.text) // 30)
            text = "".join(
                "".join(rng.choice(HANZI) for _ in range(rng.randint(15, 40))) + "。"
                for _ in range(sentences)
            )
            body.append(Block("p", text))
        else:
            body.append(block)
    rng.shuffle(body)
    return dataclasses.replace(article, body=tuple(body))


def _times(pairs: list[tuple[Article, Article]]) -> list[float]:
    out = []
    for old, new in pairs:
        start = time.perf_counter()
        diff_articles(old, new)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _row(table: Table, name: str, times: list[float], p99_target: float | None) -> dict[str, Any]:
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    worst = ordered[-1]
    target = ""
    if p99_target is not None:
        target = verdict(p99 < p99_target and worst < 1000, f"p99 <{p99_target:g} ms, max <1 s")
    else:
        target = verdict(worst < 1000, "max <1 s")
    table.add(
        name,
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms",
        f"{len(times)} diffs",
        target,
    )
    return {"count": len(times), "p50_ms": p50, "p99_ms": p99, "max_ms": worst}


def measure(table: Table) -> dict[str, Any]:
    table.section("diff time")
    rng = random.Random(3)
    longest = sorted((a for _, a in base_articles()), key=lambda a: -a.text_length())[:40]
    small = [(a, small_edit(a, rng)) for a in longest for _ in range(5)]
    heavy = [(a, heavy_rewrite(a, rng)) for a in longest]
    return {
        "real": _row(table, "real edit pairs", _times(real_pairs()), 20),
        "small": _row(table, "synthetic small edits (long articles)", _times(small), 20),
        "heavy": _row(table, "synthetic heavy rewrites (long articles)", _times(heavy), None),
        "longest_article_chars": longest[0].text_length() if longest else 0,
    }
