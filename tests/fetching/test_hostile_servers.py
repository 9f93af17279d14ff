"""Hostile servers: bounded errors, never a crash or a false edit.

Hostile files are in tests/core/test_hostile_files.py, hostile HTML in
tests/extraction/test_hostile_html.py.
"""

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

from monitor.snapshot import Snapshot, read_file
from support.corpus import BIDEN_OLD, ROOT, load_article
from support.pages import nyt_page
from support.server import Route, page_server

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
