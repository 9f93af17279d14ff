"""Work reaches free slots host by host, and a pass holds a bounded number of pages."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.runner.feeding import HostFeeder
from support.cli import run
from support.daemon import query
from support.server import Route, page_server


def test_each_host_gets_at_most_its_room_and_hosts_take_turns() -> None:
    feeder: HostFeeder[str] = HostFeeder(per_host=2)
    for i in range(5):
        feeder.add("slow", f"s{i}")
    for i in range(3):
        feeder.add("fast", f"f{i}")
    first = feeder.take(10)
    assert sorted(host for host, _ in first) == ["fast", "fast", "slow", "slow"]
    assert len(feeder) == 4
    assert feeder.take(10) == []  # both hosts are full: nothing more starts
    feeder.done("fast")
    assert feeder.take(10) == [("fast", "f2")]
    for _ in range(2):
        feeder.done("slow")
    assert [item for _, item in feeder.take(10)] == ["s2", "s3"]
    assert len(feeder) == 1


def test_a_finished_host_frees_its_room_for_the_next_item() -> None:
    feeder: HostFeeder[int] = HostFeeder(per_host=1)
    for i in range(100):
        feeder.add("one", i)
    seen = []
    while len(feeder):
        taken = feeder.take(5)
        assert len(taken) == 1  # one host, room for one
        seen.append(taken[0][1])
        feeder.done("one")
    assert seen == list(range(100))


class _Gauge:
    """Counts the requests a server is answering at the same time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


@pytest.mark.slow
def test_a_pass_over_one_host_waits_for_room_instead_of_spending_deadlines(
    cli: CliRunner, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 articles on one host, one at a time with a pause between them, each check
    with a 3 s deadline: the pass takes far longer than one deadline, and no article
    is failed for time it spent waiting for its host."""
    gauge = _Gauge()
    page = (
        b"<html><head><title>t</title></head><body><article><h1>Title</h1>"
        b"<p>A paragraph of the article.</p></article></body></html>"
    )

    def answer(handler: object) -> None:
        with gauge:
            handler.send_response(200)  # type: ignore[attr-defined]
            handler.send_header("Content-Type", "text/html; charset=utf-8")  # type: ignore[attr-defined]
            handler.send_header("Content-Length", str(len(page)))  # type: ignore[attr-defined]
            handler.end_headers()  # type: ignore[attr-defined]
            handler.wfile.write(page)  # type: ignore[attr-defined]

    with page_server() as server:
        for i in range(60):
            server.routes[f"/a/{i}"] = Route(custom=answer)
        config = tmp_path / "monitor.toml"
        config.write_text(
            "[fetch]\nper_host_concurrency = 1\nper_host_delay_s = 0.1\n"
            "total_timeout_s = 3.0\nconcurrency = 10\n"
            f'[mirrors]\n"https://news.example/" = "{server.base}"\n'
        )
        monkeypatch.setenv("MONITOR_CONFIG", str(config))
        urls = [f"https://news.example/a/{i}" for i in range(60)]
        assert run(cli, "add", *urls).exit_code == 0
        result = run(cli, "check", "--all")
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith(("new", "error"))]
    assert len(lines) == 60 and all(ln.startswith("new") for ln in lines), result.output
    assert gauge.peak == 1  # the host never had more than its one slot
    assert query(state_dir, "SELECT max(failures) FROM articles") == [(0,)]


@pytest.mark.slow
def test_a_pass_over_many_hosts_keeps_at_most_concurrency_pages_in_flight(
    cli: CliRunner, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gauge = _Gauge()
    release = threading.Event()
    page = (
        b"<html><head><title>t</title></head><body><article><h1>Title</h1>"
        b"<p>A paragraph of the article.</p></article></body></html>"
    )

    def answer(handler: object) -> None:
        with gauge:
            release.wait(0.02)  # hold each page a moment so that checks overlap
            handler.send_response(200)  # type: ignore[attr-defined]
            handler.send_header("Content-Type", "text/html; charset=utf-8")  # type: ignore[attr-defined]
            handler.send_header("Content-Length", str(len(page)))  # type: ignore[attr-defined]
            handler.end_headers()  # type: ignore[attr-defined]
            handler.wfile.write(page)  # type: ignore[attr-defined]

    with page_server() as server:
        mirrors = []
        urls = []
        for host in range(40):
            mirrors.append(f'"https://site{host}.example/" = "{server.base}site{host}/"')
            for i in range(5):
                server.routes[f"/site{host}/a/{i}"] = Route(custom=answer)
                urls.append(f"https://site{host}.example/a/{i}")
        config = tmp_path / "monitor.toml"
        config.write_text(
            "[fetch]\nconcurrency = 4\nper_host_concurrency = 2\nper_host_delay_s = 0\n"
            "[mirrors]\n" + "\n".join(mirrors) + "\n"
        )
        monkeypatch.setenv("MONITOR_CONFIG", str(config))
        assert run(cli, "add", *urls).exit_code == 0
        result = run(cli, "check", "--all")
    assert result.exit_code == 0, result.output
    assert sum(ln.startswith("new") for ln in result.output.splitlines()) == 200
    assert 1 < gauge.peak <= 4  # checks overlapped, never more than `concurrency`
