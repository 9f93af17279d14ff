"""Hostile servers and hostile files: bounded errors, never a crash or a false edit."""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import ExtractionError, SnapshotError
from monitor.extraction.feed import article_from_feed_html
from monitor.extraction.table import extract
from monitor.snapshot import Snapshot, parse, read_file
from tests.conftest import BIDEN_OLD, ROOT, load_article
from tests.pages import nyt_page
from tests.server import Route, page_server

BASE = "https://cn.nytimes.com/usa/20240701/"


def _send(
    handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes = b""
) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.end_headers()
    if body:
        handler.wfile.write(body)


def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    bomb = gzip.compress(b"<p>" + b"\0" * 50_000_000)  # 50 MB that packs into ~50 KB
    _send(
        handler,
        200,
        {"Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": str(len(bomb))},
        bomb,
    )


def endless(handler: BaseHTTPRequestHandler) -> None:
    _send(handler, 200, {"Content-Type": "text/html"})
    chunk = b"<p>" + "没有尽头的段落。".encode() * 1000 + b"</p>"
    for _ in range(20_000):  # bounded: at most ~500 MB if nobody hangs up
        handler.wfile.write(chunk)


def trickle(handler: BaseHTTPRequestHandler) -> None:
    _send(handler, 200, {"Content-Type": "text/html", "Content-Length": "100000"})
    for _ in range(60):  # one byte a second, for at most a minute
        handler.wfile.write(b"<")
        handler.wfile.flush()
        time.sleep(1)


def redirect_loop(target: str) -> object:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        _send(handler, 302, {"Location": target, "Content-Length": "0"})

    return respond


def binary(handler: BaseHTTPRequestHandler) -> None:
    body = os.urandom(200_000)
    _send(
        handler,
        200,
        {"Content-Type": "application/octet-stream", "Content-Length": str(len(body))},
        body,
    )


def binary_as_html(handler: BaseHTTPRequestHandler) -> None:
    body = b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(50_000)
    _send(handler, 200, {"Content-Type": "text/html", "Content-Length": str(len(body))}, body)


def _snapshot_for(url: str, tmp: Path) -> Path:
    snap, _ = read_file(BIDEN_OLD)
    path = tmp / (url.rstrip("/").rsplit("/", 1)[-1] + ".md")
    path.write_text(Snapshot(snap.ts, snap.title, url, snap.html).render(), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_hostile_servers_give_bounded_errors_and_others_go_on(
    tmp_path: Path, transport: str
) -> None:
    article = load_article(BIDEN_OLD)
    good_page = nyt_page(article)
    cases: dict[str, Route] = {
        "good": Route(body=good_page.encode()),
        "bomb": Route(custom=gzip_bomb),
        "endless": Route(custom=endless),
        "trickle": Route(custom=trickle),
        "loop": Route(custom=redirect_loop("/usa/20240701/loop2/")),
        "loop2": Route(custom=redirect_loop("/usa/20240701/loop/")),
        "errorpage": Route(
            body="<html><body><h1>服务器错误</h1><p>请稍后再试</p></body></html>".encode()
        ),
        "binary": Route(custom=binary),
        "binaryhtml": Route(custom=binary_as_html),
        "badcharset": Route(body=good_page.encode(), content_type="text/html; charset=x-nonsense"),
        "lyingcharset": Route(
            body=good_page.replace('charset="utf-8"', "").encode("gb18030"),
            content_type="text/html; charset=utf-8",
        ),
        "malformed": Route(
            body=good_page.replace("</div>", "")
            .replace("</p>", "<p>")
            .replace("</section>", "</span></b>")
            .encode()
        ),
        "tinyparas": Route(
            body=(
                "<html><body><article><h1>t</h1>"
                + "<p>字</p>" * 400_000
                + "</article></body></html>"
            ).encode()
        ),
    }
    state = tmp_path / "state"
    config = tmp_path / "c.toml"
    config.write_text(
        "[fetch]\nper_host_delay_s = 0\ntimeout_s = 2.0\ntotal_timeout_s = 4.0\n"
        f'retries = 0\nmax_redirects = 5\ntransport = "{transport}"\n'
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MONITOR_STATE_DIR": str(state),
        "MONITOR_CONFIG": str(config),
    }
    monitor = [sys.executable, "-m", "monitor"]
    with page_server() as server:
        env["MONITOR_MIRRORS"] = f"https://cn.nytimes.com/={server.base}"
        for name, route in cases.items():
            server.routes[f"/usa/20240701/{name}/"] = route
            snapshot = _snapshot_for(BASE + name + "/", tmp_path)
            subprocess.run(
                [*monitor, "import", str(snapshot)],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        result = subprocess.run(
            [*monitor, "check", "--all", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert result.returncode == 0, result.stderr
    outcomes = {
        json.loads(line)["url"].rstrip("/").rsplit("/", 1)[-1]: json.loads(line)
        for line in result.stdout.splitlines()
        if line.startswith("{")
    }
    assert set(outcomes) == set(cases)
    assert outcomes["good"]["outcome"] == "unchanged"
    assert outcomes["lyingcharset"]["outcome"] == "unchanged"  # the bytes win over the header
    assert outcomes["badcharset"]["outcome"] == "unchanged"
    assert outcomes["malformed"]["outcome"] in ("unchanged", "error")
    expected_errors = {
        "bomb": "larger than",
        "endless": "larger than",
        "trickle": "longer than",
        "loop": "redirects",
        "errorpage": "suspect",
        "binary": "not an HTML page",
        "binaryhtml": "binary",
        "tinyparas": "text blocks",
    }
    for name, words in expected_errors.items():
        assert outcomes[name]["outcome"] == "error", (name, outcomes[name])
        assert words in outcomes[name]["detail"], (name, outcomes[name])
    # Nothing hostile became a version.
    history = subprocess.run(
        [*monitor, "list", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert {a["versions"] for a in json.loads(history.stdout)} == {1}
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kb < 600 * 1024, f"a child used {peak_kb // 1024} MB"


# -- hostile files: property-based fuzzing --------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


html_fragments = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<div>",
            "</div>",
            "<figure>",
            "</figure>",
            "<img src='x'>",
            "<small>",
            "</small>",
            "<b>",
            "</b>",
            "<section>",
            "</section>",
            "<footer>",
            "</footer>",
            "<br>",
            "<address>",
            "</address>",
            '<time pudate="2024">',
            "</time>",
            "<script>",
            "</script>",
            "<table>",
            "<td>",
            "<!--",
            "-->",
            "&amp;",
            "&#0;",
            "&#xD800;",
            "<",
            ">",
            "文字",
            "text ",
            "翻译：",
            "\x00",
            "<svg>",
            "<figcaption>",
            "<cite>",
            "<li>",
            "<ul>",
            "<h2>",
        ]
    ),
    max_size=60,
).map("".join)


@FUZZ
@given(html_fragments)
def test_feed_extractor_never_crashes(html: str) -> None:
    article = article_from_feed_html(html, title="t", url="https://cn.nytimes.com/a/")
    assert article.canonical_text().startswith("# t\n")


@FUZZ
@given(
    html_fragments,
    st.sampled_from(
        [
            "https://cn.nytimes.com/a/",
            "https://example.org/a",
            "https://www.nytimes.com/zh-hans/a.html",
        ]
    ),
)
def test_live_extractors_never_crash(html: str, url: str) -> None:
    try:
        article = extract(
            f"<html><body><article class='article-content'>{html}</article></body></html>", url
        )
    except ExtractionError as exc:
        assert str(exc)
    else:
        article.fingerprint()


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
