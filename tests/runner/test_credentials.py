"""Mirror credentials never leak: a mirror rule may carry `user:password@`, and the
fetch URL it builds ends up in redirect errors, `last_error`, check output and the
"removed" alert. The password must show nowhere but in the request to the mirror."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.cli import run
from support.corpus import BIDEN_OLD
from support.receivers import Webhook, webhook
from support.server import PageServer, Route, page_server

SECRET = "SECRETpw4mirror"
ARTICLE = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"
PATH = "/usa/20240701/biden-campaign-debate-scramble/"
ELSEWHERE = "/usa/20240702/another-article/"


class Mirror:
    """The mirror: the article's page redirects (relatively, so the final URL keeps the
    mirror's user:password@) to another article; it records what auth it was sent."""

    def __init__(self, server: PageServer) -> None:
        self.server = server
        self.authorizations: list[str | None] = []
        server.routes[PATH] = Route(custom=self._redirect)
        server.routes[ELSEWHERE] = Route(body=b"<html><body><p>another</p></body></html>")

    def _redirect(self, handler: BaseHTTPRequestHandler) -> None:
        self.authorizations.append(handler.headers.get("Authorization"))
        handler.send_response(301)
        handler.send_header("Location", ELSEWHERE)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


@pytest.fixture
def mirror(state_dir: Path) -> Iterator[Mirror]:
    with page_server() as server:
        yield Mirror(server)


def _config(path: Path, mirror: Mirror, hook: Webhook) -> None:
    target = mirror.server.base.replace("http://", f"http://user:{SECRET}@")
    path.write_text(
        "[fetch]\nper_host_delay_s = 0\nbackoff_s = 0.01\nretries = 0\n"
        "[check]\nremoval_confirmations = 2\n"
        f'[notify]\ntargets = ["{hook.url}"]\n'
        f'[mirrors]\n"https://cn.nytimes.com/" = "{target}"\n',
        encoding="utf-8",
    )


def _database_text(state_dir: Path) -> str:
    conn = sqlite3.connect(state_dir / "monitor.db")
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def test_mirror_password_shows_nowhere(
    cli: CliRunner,
    mirror: Mirror,
    state_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with webhook() as hook:
        config = tmp_path / "monitor.toml"
        _config(config, mirror, hook)
        monkeypatch.setenv("MONITOR_CONFIG", str(config))
        assert run(cli, "import", str(BIDEN_OLD)).exit_code == 0

        shown = run(cli, "config")
        assert shown.exit_code == 0
        assert SECRET not in shown.output
        masked = mirror.server.base.replace("http://", "http://user:****@")
        assert json.loads(shown.stdout)["mirrors"] == {"https://cn.nytimes.com/": masked}

        first = run(cli, "check", "--all")
        assert first.exit_code == 0
        assert f"missing (redirected to http://user:****@127.0.0.1:{mirror.server.port}" in (
            first.stdout
        )
        assert "1 of 2 before removal" in first.stdout
        assert SECRET not in first.output

        [row] = json.loads(run(cli, "list", "--json").stdout)
        assert row["last_error"].startswith("redirected to http://user:****@")
        assert SECRET not in row["last_error"]

        second = run(cli, "check", "--all")
        assert f"removed  {ARTICLE}" in second.stdout
        assert "1 sent" in second.output
        assert SECRET not in second.output
        [row] = json.loads(run(cli, "list", "--json").stdout)
        assert row["state"] == "removed" and SECRET not in row["last_error"]

        [post] = hook.posts
        assert post["title"].startswith("[removed]")
        assert "redirected to" in post["message"]
        assert SECRET not in json.dumps(post, ensure_ascii=False)

    # Nothing stored holds it either (errors, observations, alerts, deliveries).
    assert SECRET not in _database_text(state_dir)
    # The credentials were really in play: the mirror was sent them on every check.
    expected = "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()
    assert mirror.authorizations == [expected, expected]
