"""URL normalisation: one key per article, whatever variant of its address is given."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from monitor.errors import UrlError
from monitor.urls import normalize
from support.cli import run
from support.corpus import ROOT

URL = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"


@pytest.mark.parametrize(
    "variant",
    [
        URL,
        URL + "dual/",
        URL + "zh-hant/",
        URL + "?utm_source=RSS",
        URL + "#comments",
        URL.rstrip("/"),
        "http://CN.nytimes.com/usa/20240701/biden-campaign-debate-scramble/dual/?utm_source=RSS",
        "https://m.cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/",
    ],
)
def test_url_variants_share_one_key(variant: str) -> None:
    assert normalize(variant) == URL


def test_other_sites_keep_identifying_query() -> None:
    assert (
        normalize("https://Example.org/story?id=42&utm_medium=x#top")
        == "https://example.org/story?id=42"
    )


@pytest.mark.parametrize(
    "bad", ["", "ftp://x.org/a", "notaurl", "https:///path", "http://a b.org/"]
)
def test_bad_urls(bad: str) -> None:
    with pytest.raises(UrlError):
        normalize(bad)


# -- IPv6 literals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("http://[2001:DB8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
        ("http://[2001:db8:0:0:0:0:0:1]/a?id=3", "http://[2001:db8::1]/a?id=3"),
        ("https://[::1]:443/x", "https://[::1]/x"),
    ],
)
def test_ipv6_literals_keep_their_brackets_and_port(given: str, stored: str) -> None:
    url = normalize(given)
    assert url == stored
    parts = urlsplit(url)  # usable: the host and port read back as they were given
    assert parts.hostname == urlsplit(stored).hostname
    assert parts.port == urlsplit(stored).port
    assert normalize(url) == url


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True


ARTICLE_HTML = (
    b"<html><head><title>An IPv6 article</title></head><body><article>"
    b"<h1>An IPv6 article</h1><p>Served on the loopback address ::1.</p>"
    b"<p>A second paragraph.</p></article></body></html>"
)


@contextmanager
def _v6_server(tls: ssl.SSLContext | None = None) -> Iterator[tuple[int, list[str]]]:
    """An HTTP(S) server bound to ::1 serving one article at /x."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            status, body = (200, ARTICLE_HTML) if self.path == "/x" else (404, b"")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    try:
        server = _V6Server(("::1", 0), Handler)
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), hits
    finally:
        server.shutdown()
        server.server_close()


def test_an_article_on_an_ipv6_literal_is_checked(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An http URL is stored as http, brackets and port kept, and fetched as it is."""
    config = tmp_path / "monitor.toml"
    config.write_text(
        "[fetch]\nper_host_delay_s = 0\nretries = 0\nallow_private_addresses = true\n"
    )
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    with _v6_server() as (port, hits):
        added = run(cli, "add", f"http://[::1]:{port}/x")
        assert added.exit_code == 0, added.output
        checked = run(cli, "check", "--all")
        assert checked.exit_code == 0, checked.output
        assert hits == ["/x"]
    assert checked.stdout.startswith(f"new  http://[::1]:{port}/x"), checked.stdout
    [row] = json.loads(run(cli, "list", "--json").stdout)
    assert row["url"] == f"http://[::1]:{port}/x"
    assert row["versions"] == 1 and row["title"] == "An IPv6 article"


def _self_signed_for_ipv6_loopback(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a certificate for [::1]")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=ipv6 loopback test", "-addext", "subjectAltName=IP:::1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.mark.slow
def test_an_article_on_an_ipv6_literal_is_fetched_at_its_stored_url(tmp_path: Path) -> None:
    """No mirror: the stored https://[::1]:PORT/x is itself what the check connects to
    (a server with a certificate for ::1 that the checking process trusts)."""
    cert, key = _self_signed_for_ipv6_loopback(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    config = tmp_path / "monitor.toml"
    config.write_text(
        "[fetch]\nper_host_delay_s = 0\nretries = 0\nallow_private_addresses = true\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env |= {"PYTHONPATH": str(ROOT), "SSL_CERT_FILE": str(cert)}

    def monitor(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "monitor", "--state-dir", str(tmp_path / "state")]
        return subprocess.run(
            [*command, "--config", str(config), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with _v6_server(tls) as (port, hits):
        url = f"https://[::1]:{port}/x"
        added = monitor("add", url)
        assert added.returncode == 0, added.stderr
        checked = monitor("check", "--all")
        assert checked.returncode == 0, checked.stderr
        assert hits == ["/x"], checked.stdout
    assert checked.stdout.startswith(f"new  {url}"), checked.stdout
    [row] = json.loads(monitor("list", "--json").stdout)
    assert row["url"] == url and row["versions"] == 1
