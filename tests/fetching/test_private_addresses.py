"""The private-address policy: an article URL, a redirect or a name that resolves to a
private, loopback, link-local or metadata address is refused, so a watched URL cannot
make the monitor probe the network it runs in. `fetch.allow_private_addresses = true`
lifts the rule; a mirror rule trusts what it fetches through, and nothing else."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.config import FetchSettings
from monitor.errors import FetchError
from monitor.fetching.fetcher import Fetcher
from monitor.urls import normalize
from support.cli import run
from support.receivers import free_port
from support.server import PageServer, Route, page_server

TRANSPORTS = ["aiohttp", "httpx"]
TOKEN = "SECRETTOKEN"
ARTICLE = "https://cn.nytimes.com/usa/20240701/redirected-inside/"
ARTICLE_PATH = "/usa/20240701/redirected-inside/"
PUBLIC = ["https://example.org/story", "https://cn.nytimes.com/usa/20240701/fine/"]
FAST = "[fetch]\nper_host_delay_s = 0\nbackoff_s = 0.01\nretries = 0\n"


def _private_urls(port: int) -> list[str]:
    return [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/a",
        "http://localhost:2375/x",
        "http://[::1]/x",
        f"http://127.0.0.1:{port}/x",
    ]


def _use_config(monkeypatch: pytest.MonkeyPatch, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("MONITOR_CONFIG", str(path))


def _listed(cli: CliRunner) -> list[dict[str, object]]:
    result = run(cli, "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def _loopback_name() -> str | None:
    """A host name (not `localhost`, which is refused by its name alone) that resolves
    to 127.0.0.1 and nothing public: from /etc/hosts, or this machine's own name."""
    candidates: list[str] = []
    try:
        for line in Path("/etc/hosts").read_text().splitlines():
            fields = line.split("#", 1)[0].split()
            candidates += fields[1:]
    except OSError:
        pass
    candidates.append(socket.gethostname())
    for name in candidates:
        lowered = name.lower().rstrip(".")
        if lowered == "localhost" or lowered.endswith(".localhost"):
            continue
        try:
            infos = socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)
        except OSError:
            continue
        addresses = {str(info[4][0]) for info in infos}
        if "127.0.0.1" in addresses and all(a.startswith("127.") or a == "::1" for a in addresses):
            return name
    return None


LOOPBACK_NAME = _loopback_name()
needs_loopback_name = pytest.mark.skipif(
    LOOPBACK_NAME is None, reason="no host name resolving to 127.0.0.1 in /etc/hosts"
)


class Internal:
    """A service inside the network: records every request it gets."""

    def __init__(self, host: str) -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                body = b"<html><body><h1>internal</h1><p>secret stuff</p></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        try:
            self.server = ThreadingHTTPServer((host, 0), Handler)
        except OSError as exc:
            pytest.skip(f"cannot listen on {host}: {exc}")
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])


@contextmanager
def internal_service(host: str) -> Iterator[Internal]:
    service = Internal(host)
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.server.shutdown()
        service.server.server_close()


# -- monitor add ----------------------------------------------------------------------


def test_add_refuses_private_addresses_one_line_each(cli: CliRunner) -> None:
    private = _private_urls(free_port())
    result = run(cli, "add", PUBLIC[0], *private, PUBLIC[1])
    assert result.exit_code == 1
    assert "2 added, 0 already known, 5 errors" in result.stdout
    errors = result.stderr.splitlines()
    assert len(errors) == len(private), result.stderr
    for url, line in zip(private, errors, strict=True):
        assert line.startswith(f"error: {url!r}: refused: "), line
        assert "private address" in line
    assert sorted(str(r["url"]) for r in _listed(cli)) == sorted(normalize(u) for u in PUBLIC)


def test_add_accepts_private_addresses_when_allowed(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_config(monkeypatch, tmp_path / "monitor.toml", "[fetch]\nallow_private_addresses = true\n")
    private = _private_urls(free_port())
    result = run(cli, "add", *private)
    assert result.exit_code == 0, result.output
    assert "5 added, 0 already known, 0 errors" in result.stdout
    assert result.stderr == ""
    assert sorted(str(r["url"]) for r in _listed(cli)) == sorted(normalize(u) for u in private)


def test_a_mirror_on_loopback_trusts_only_its_own_target(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mirror rule fetching through 127.0.0.1:A is the user's choice; another service
    on the same machine (127.0.0.1:B, say a Docker socket on 2375) is not."""
    mirror_port, other_port = free_port(), free_port()
    monkeypatch.setenv(
        "MONITOR_MIRRORS", f"https://cn.nytimes.com/=http://127.0.0.1:{mirror_port}/"
    )
    result = run(cli, "add", PUBLIC[1], f"http://127.0.0.1:{other_port}/x")
    assert result.exit_code == 1, result.output
    assert "1 added, 0 already known, 1 errors" in result.stdout
    assert "private address" in result.stderr


# -- a redirect into the network --------------------------------------------------------


@pytest.fixture
def mirror(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PageServer]:
    with page_server() as server:
        monkeypatch.setenv("MONITOR_MIRRORS", f"https://cn.nytimes.com/={server.base}")
        yield server


def _internal_target(kind: str) -> tuple[str, str]:
    """(address the internal service listens on, host name the redirect uses)."""
    if kind == "mirror-host-other-port":
        return "127.0.0.1", "127.0.0.1"
    if kind == "other-loopback":
        return "127.0.0.2", "127.0.0.2"
    assert LOOPBACK_NAME is not None
    return "127.0.0.1", LOOPBACK_NAME


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "kind",
    [
        "mirror-host-other-port",
        "other-loopback",
        pytest.param("name-resolving-to-loopback", marks=needs_loopback_name),
    ],
)
def test_a_redirect_into_the_network_is_not_followed(
    cli: CliRunner,
    mirror: PageServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    transport: str,
    kind: str,
) -> None:
    _use_config(monkeypatch, tmp_path / "monitor.toml", FAST + f'transport = "{transport}"\n')
    listen, host = _internal_target(kind)
    with internal_service(listen) as internal:
        location = f"http://{host}:{internal.port}/internal?token={TOKEN}"
        mirror.routes[ARTICLE_PATH] = Route(redirect_to=location)
        assert run(cli, "add", ARTICLE).exit_code == 0
        checked = run(cli, "check", "--all")
        assert mirror.hits == [ARTICLE_PATH]  # the mirror's page was fetched and redirected
        assert internal.hits == [], f"the redirect to {location} was followed"
    assert TOKEN not in checked.output
    assert checked.stdout.startswith("error (refused: "), checked.stdout
    [row] = _listed(cli)
    assert row["versions"] == 0
    assert "private address" in str(row["last_error"])
    assert TOKEN not in str(row["last_error"])


# -- names resolving to private addresses, at connect time ------------------------------


def _fetch(transport: str, url: str, allow: bool) -> int:
    settings = FetchSettings(
        per_host_delay_s=0, retries=0, transport=transport, allow_private_addresses=allow
    )

    async def go() -> int:
        async with Fetcher(settings) as fetcher:
            return (await fetcher.fetch(url)).status

    return asyncio.run(go())


@needs_loopback_name
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_name_resolving_to_loopback_is_refused_at_connect_time(transport: str) -> None:
    with page_server() as server:
        server.routes["/x"] = Route(body=b"<html><body><p>inside</p></body></html>")
        url = f"http://{LOOPBACK_NAME}:{server.port}/x"
        with pytest.raises(FetchError, match="resolves to a private address") as refused:
            _fetch(transport, url, allow=False)
        assert not refused.value.transient  # no retry will change the answer
        assert server.hits == []
        # The name does lead to the server: allowed, the same fetch gets the page.
        assert _fetch(transport, url, allow=True) == 200
        assert server.hits == ["/x"]
