from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.article import Block
from support.cli import run
from support.corpus import BIDEN_NEW, BIDEN_OLD, load_article
from support.pages import nyt_page
from support.server import PageServer, Route, page_server

BIDEN = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"
PATH = "/usa/20240701/biden-campaign-debate-scramble/"


@pytest.fixture
def server(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PageServer]:
    with page_server() as srv:
        monkeypatch.setenv("MONITOR_MIRRORS", f"https://cn.nytimes.com/={srv.base}")
        config = tmp_path / "monitor.toml"
        config.write_text(
            "[fetch]\nper_host_delay_s = 0\nbackoff_s = 0.01\ntimeout_s = 1.0\nretries = 2\n"
        )
        monkeypatch.setenv("MONITOR_CONFIG", str(config))
        yield srv


def _check(cli: CliRunner) -> list[dict[str, object]]:
    result = run(cli, "check", "--all", "--json")
    assert result.exit_code == 0, result.output
    # stdout is one JSON object per article; stderr (mixed in here) may carry log lines.
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def _serve(server: PageServer, html: str, **route: object) -> None:
    server.routes[PATH] = Route(body=html.encode("utf-8"), **route)  # type: ignore[arg-type]


def _history(cli: CliRunner) -> list[dict[str, object]]:
    return json.loads(run(cli, "history", BIDEN, "--json").output)  # type: ignore[no-any-return]


def test_live_history_end_to_end(cli: CliRunner, server: PageServer) -> None:
    old = load_article(BIDEN_OLD)
    run(cli, "import", str(BIDEN_OLD))

    # The unchanged article, on a real page full of furniture: no new version.
    _serve(server, nyt_page(old, token="a"))
    assert [r["outcome"] for r in _check(cli)] == ["unchanged"]
    _serve(server, nyt_page(old, token="b"))  # varying ad/token bytes
    assert [r["outcome"] for r in _check(cli)] == ["unchanged"]

    # The real edit: exactly the two word fixes.
    new = load_article(BIDEN_NEW)
    _serve(server, nyt_page(new, token="c"))
    [result] = _check(cli)
    assert result["outcome"] == "changed" and result["kinds"] == ["body"]
    diff = json.loads(run(cli, "diff", BIDEN, "--format", "json").output)
    assert [(c["section"], c["op"]) for c in diff["changes"]] == [("body", "edit")] * 2
    assert "觉得好笑" in diff["changes"][1]["old"] and "绷不住" in diff["changes"][1]["new"]

    # Title change, then an added paragraph.
    retitled = dataclasses.replace(new, title=new.title + "（更新）")
    _serve(server, nyt_page(retitled))
    assert _check(cli)[0]["kinds"] == ["title"]
    longer = dataclasses.replace(retitled, body=(*retitled.body, Block("p", "新增的一段话。")))
    _serve(server, nyt_page(longer))
    assert _check(cli)[0]["kinds"] == ["body"]

    # Removal needs two 404s in a row, then a restore diffs against the last text.
    server.routes.pop(PATH)
    assert _check(cli)[0]["outcome"] == "missing"
    assert _check(cli)[0]["outcome"] == "removed"
    assert _check(cli)[0]["outcome"] == "unchanged"  # still removed: nothing new
    _serve(server, nyt_page(longer))
    assert _check(cli)[0]["outcome"] == "restored"

    kinds = [h["kinds"] for h in _history(cli)]
    assert kinds == [["first"], ["body"], ["title"], ["body"], ["removed"], ["restored"]]
    shown = run(cli, "show", BIDEN).output
    assert shown.startswith("<!--") and "新增的一段话。" in shown


def test_etag_gives_304_without_a_version(cli: CliRunner, server: PageServer) -> None:
    old = load_article(BIDEN_OLD)
    run(cli, "import", str(BIDEN_OLD))
    _serve(server, nyt_page(old), etag='"v1"')
    assert _check(cli)[0]["outcome"] == "unchanged"
    assert _check(cli)[0]["detail"] == "304"
    assert len(_history(cli)) == 1


def test_gbk_page_reads_as_the_same_text(cli: CliRunner, server: PageServer) -> None:
    old = load_article(BIDEN_OLD)
    run(cli, "import", str(BIDEN_OLD))
    page = nyt_page(old, charset="gbk").encode("gb18030")
    server.routes[PATH] = Route(body=page, content_type="text/html")
    assert _check(cli)[0]["outcome"] == "unchanged"


def test_dual_variant_reads_as_the_same_text(cli: CliRunner, server: PageServer) -> None:
    run(cli, "import", str(BIDEN_OLD))
    _serve(server, nyt_page(load_article(BIDEN_OLD), dual=True))
    assert _check(cli)[0]["outcome"] == "unchanged"


def test_flaky_server_is_retried_and_never_a_version(cli: CliRunner, server: PageServer) -> None:
    old = load_article(BIDEN_OLD)
    run(cli, "import", str(BIDEN_OLD))
    _serve(server, nyt_page(old), fail_first=[503, 503])
    assert _check(cli)[0]["outcome"] == "unchanged"  # retried inside the check
    _serve(server, nyt_page(old), fail_first=[503, 503, 503, 503])
    result = _check(cli)[0]
    assert result["outcome"] == "error" and "503" in str(result["detail"])
    _serve(server, nyt_page(old), stall_first_s=3.0)
    assert _check(cli)[0]["outcome"] == "unchanged"  # the timed-out try is retried
    listed = json.loads(run(cli, "list", "--json").output)
    assert listed[0]["failures"] == 0
    assert len(_history(cli)) == 1


def test_failures_are_counted_and_shown(cli: CliRunner, server: PageServer) -> None:
    run(cli, "import", str(BIDEN_OLD))
    _serve(server, "x", fail_first=[500] * 10)
    _check(cli)
    assert json.loads(run(cli, "list", "--json").output)[0]["failures"] == 1
    assert "failing (1)" in run(cli, "list").output


def test_suspect_shrink_is_held_until_confirmed(cli: CliRunner, server: PageServer) -> None:
    old = load_article(BIDEN_OLD)
    run(cli, "import", str(BIDEN_OLD))
    paywalled = dataclasses.replace(old, body=old.body[:2])
    _serve(server, nyt_page(paywalled))
    first = _check(cli)[0]
    assert first["outcome"] == "error" and "suspect" in str(first["detail"])
    assert len(_history(cli)) == 1
    assert _check(cli)[0]["outcome"] == "changed"  # seen again: confirmed


def test_generic_site_first_sight(
    cli: CliRunner, server: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_MIRRORS", f"https://news.example.org/={server.base}")
    server.routes["/story/1"] = Route(
        body=(
            b'<html><head><meta property="og:title" content="A headline">'
            b'<meta name="author" content="Jane Doe"></head><body><nav><a href="/">Home</a></nav>'
            b"<article><h1>A headline</h1><p>First paragraph.</p><p>Second paragraph.</p></article>"
            b"<footer>Copyright</footer></body></html>"
        )
    )
    run(cli, "add", "https://news.example.org/story/1")
    result = _check(cli)[0]
    assert result["outcome"] == "new"
    shown = run(cli, "show", "https://news.example.org/story/1").output
    assert "Jane Doe" in shown and "Second paragraph." in shown and "Home" not in shown


def test_reextract_keeps_timestamps_and_replays(
    cli: CliRunner, server: PageServer, state_dir: Path
) -> None:
    import sqlite3

    old = load_article(BIDEN_OLD)
    run(cli, "add", BIDEN)
    _serve(server, nyt_page(old))
    assert _check(cli)[0]["outcome"] == "new"
    _serve(server, nyt_page(load_article(BIDEN_NEW)))
    assert _check(cli)[0]["outcome"] == "changed"
    before = _history(cli)
    conn = sqlite3.connect(state_dir / "monitor.db")
    # Simulate an older, worse extractor having stored a truncated text.
    conn.execute("UPDATE versions SET fingerprint = 'stale' WHERE ts = ?", (before[1]["ts"],))
    conn.commit()
    conn.close()
    result = run(cli, "reextract", BIDEN)
    assert "1 versions changed" in result.output
    after = _history(cli)
    assert [h["ts"] for h in after] == [h["ts"] for h in before]
    assert [h["kinds"] for h in after] == [["first"], ["body"]]


def test_redirect_to_another_page_is_a_removal_after_two_checks(
    cli: CliRunner, server: PageServer, state_dir: Path
) -> None:
    import sqlite3

    run(cli, "import", str(BIDEN_OLD))
    server.routes["/"] = Route(body=b"<html><body><h1>Home</h1><p>front page</p></body></html>")
    server.routes[PATH] = Route(redirect_to="/")
    first = _check(cli)[0]
    assert first["outcome"] == "missing" and "redirected" in str(first["detail"])
    assert _check(cli)[0]["outcome"] == "removed"
    assert [h["kinds"] for h in _history(cli)] == [["first"], ["removed"]]
    # Every check left one small row; the removal is a version, the rest observations.
    conn = sqlite3.connect(state_dir / "monitor.db")
    outcomes = [r[0] for r in conn.execute("SELECT outcome FROM observations ORDER BY ts")]
    conn.close()
    assert outcomes == ["missing"]


def test_unchanged_article_signature_skips_extraction(
    cli: CliRunner, server: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.extraction.table

    old = load_article(BIDEN_OLD)
    run(cli, "import", str(BIDEN_OLD))
    _serve(server, nyt_page(old, token="first"))
    assert _check(cli)[0]["outcome"] == "unchanged"

    def no_parsing(html: str, url: str) -> object:
        raise AssertionError("the page was parsed")

    monkeypatch.setattr(monitor.extraction.table, "extract", no_parsing)
    # Other bytes everywhere, inside the article too (ads, scripts, comments): unchanged.
    _serve(server, nyt_page(old, token="second", hard=True))
    assert _check(cli)[0]["outcome"] == "unchanged"
    # An edit inside the article changes the signature: the page is extracted again.
    edited = dataclasses.replace(old, body=(*old.body, Block("p", "新增。")))
    _serve(server, nyt_page(edited, token="third"))
    [result] = _check(cli)  # a failure in one article's handling is that article's error
    assert result["outcome"] == "error" and "the page was parsed" in str(result["detail"])


def test_a_big_check_parses_in_workers_with_the_same_results(
    cli: CliRunner, server: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From PARSER_POOL_FROM articles on, `check` parses in worker processes."""
    from monitor.cli import PARSER_POOL_FROM
    from monitor.extraction.parser_pool import ParserPool

    handed_over: list[str] = []  # pages a worker extracted
    run_in_worker = ParserPool.run

    async def counting(pool: ParserPool, func: Any, *args: Any) -> Any:
        answer = await run_in_worker(pool, func, *args)
        extracted = answer if func.__name__ == "parse_page" else answer[1]
        if extracted is not None:
            handed_over.append(str(args[2]))
        return answer

    monkeypatch.setattr(ParserPool, "run", counting)

    base = load_article(BIDEN_OLD)
    urls = []
    for i in range(PARSER_POOL_FROM + 5):
        url = f"https://cn.nytimes.com/usa/20240701/article-{i}/"
        article = dataclasses.replace(base, title=f"{base.title} {i}", url=url)
        server.routes[f"/usa/20240701/article-{i}/"] = Route(body=nyt_page(article).encode())
        urls.append(url)
    run(cli, "add", *urls)
    first = _check(cli)
    assert sorted(r["outcome"] for r in first) == ["new"] * len(urls)
    assert sorted(handed_over) == sorted(urls)  # every page was parsed by a worker
    listing = json.loads(run(cli, "list", "--json").output)
    titles = {row["url"]: row["title"] for row in listing}
    assert all(titles[url] == f"{base.title} {i}" for i, url in enumerate(urls))
    assert [r["outcome"] for r in _check(cli)] == ["unchanged"] * len(urls)
    assert len(handed_over) == len(urls)  # an unchanged signature: nothing extracted
