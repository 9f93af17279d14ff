from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.config import Config, NotifySettings, NotifyTarget
from monitor.errors import FetchError
from monitor.notify.outbox import deliver
from monitor.notify.policy import queue_alerts, routed_targets
from monitor.outcome import ArticleTarget, ArticleUpdate, CheckOutcome
from monitor.runner.check import Fetched, apply_fetched
from monitor.storage.database import Store
from support.cli import run
from support.corpus import BIDEN_NEW, BIDEN_OLD, load_article
from support.pages import nyt_page
from support.receivers import html_part, smtp_server, webhook
from support.server import PageServer, Route, page_server

BIDEN = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"
PATH = "/usa/20240701/biden-campaign-debate-scramble/"
SECRET_URL = "json://alice:hunter2secret@127.0.0.1:9/hook"


@pytest.fixture
def server(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[PageServer]:
    with page_server() as srv:
        monkeypatch.setenv("MONITOR_MIRRORS", f"https://cn.nytimes.com/={srv.base}")
        config = tmp_path / "monitor.toml"
        config.write_text("[fetch]\nper_host_delay_s = 0\nbackoff_s = 0.01\nretries = 0\n")
        monkeypatch.setenv("MONITOR_CONFIG", str(config))
        yield srv


def test_check_command_delivers_what_it_queued(
    cli: CliRunner, server: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server() as (mailbox, url):
        monkeypatch.setenv("MONITOR_NOTIFY", url)
        run(cli, "import", str(BIDEN_OLD))
        server.routes[PATH] = Route(body=nyt_page(load_article(BIDEN_OLD)).encode())
        run(cli, "check", "--all")
        assert mailbox.messages == []  # unchanged: nothing to say
        server.routes[PATH] = Route(body=nyt_page(load_article(BIDEN_NEW)).encode())
        quiet = run(cli, "check", "--all", "--no-notify")
        assert "changed (body)" in quiet.output and mailbox.messages == []
        assert "1 sent" in run(cli, "check", "--all").output  # delivers the queued alert
        [mail] = mailbox.messages
        assert re.search(r"<ins style=\"[^\"]*\">绷不住</ins>", html_part(mail))
        assert json.loads(run(cli, "outbox", "--json").output) == []


def test_outbox_lists_failures_and_retry_requeues(
    cli: CliRunner, server: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_NOTIFY", SECRET_URL)  # port 9: connection refused
    run(cli, "import", str(BIDEN_OLD))
    server.routes[PATH] = Route(body=nyt_page(load_article(BIDEN_NEW)).encode())
    result = run(cli, "check", "--all")
    assert "1 to retry" in result.output
    [row] = json.loads(run(cli, "outbox", "--json").output)
    assert row["state"] == "pending" and row["attempts"] == 1 and row["event"] == "change"
    assert "hunter2secret" not in json.dumps(row) and "****" in row["target"]
    text = run(cli, "outbox").output
    assert "pending" in text and "hunter2secret" not in text


def test_notify_test_reports_each_target(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as (mailbox, mail_url), webhook() as hook:
        monkeypatch.setenv("MONITOR_NOTIFY", f"{mail_url} {hook.url} {SECRET_URL}")
        result = run(cli, "notify-test")
        assert result.exit_code == 1  # one target is down
        lines = result.output.splitlines()
        assert [line.split()[0] for line in lines] == ["ok", "ok", "FAILED"]
        assert "hunter2secret" not in result.output
        assert len(mailbox.messages) == 1 and len(hook.posts) == 1


# -- what notifies: units over a real SQLite store, no network ------------------------


def _store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "state")


def _config(**notify: object) -> Config:
    settings = NotifySettings(targets=(NotifyTarget("json://127.0.0.1:1/a"),), **notify)  # type: ignore[arg-type]
    return Config(notify=settings)


def _target(store: Store) -> ArticleTarget:
    row = store.conn.execute("SELECT * FROM articles").fetchone()
    return ArticleTarget(
        row["id"],
        row["url"],
        row["state"],
        None,
        None,
        row["failures"],
        row["missing_count"],
        row["suspect_count"],
    )


def _fetch_page(store: Store, config: Config, article: object, now: int) -> CheckOutcome:
    from monitor.fetching.fetcher import Page

    html = nyt_page(article)  # type: ignore[arg-type]
    page = Page(200, BIDEN, html.encode(), content_type="text/html; charset=utf-8")
    return apply_fetched(store, config, Fetched(_target(store), page), now)


def _alerts(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT event FROM alerts ORDER BY id")]


def test_first_sight_metadata_and_minor_do_not_notify(tmp_path: Path) -> None:
    store, config = _store(tmp_path), _config()
    store.conn.execute("INSERT INTO articles (url, host, added_at) VALUES (?, 'h', 0)", (BIDEN,))
    old = load_article(BIDEN_OLD)
    assert _fetch_page(store, config, old, 1_000).outcome == "new"
    moved = dataclasses.replace(old, pudate="2030-01-01 00:00:00")
    assert _fetch_page(store, config, moved, 2_000).kinds == ("metadata",)
    assert _alerts(store) == []
    assert _fetch_page(store, config, load_article(BIDEN_NEW), 3_000).kinds == ("body",)
    assert _alerts(store) == ["change"]


def test_flip_flop_gives_one_alert_per_cycle(tmp_path: Path) -> None:
    store, config = _store(tmp_path), _config(flipflop_window_hours=1.0)
    store.conn.execute("INSERT INTO articles (url, host, added_at) VALUES (?, 'h', 0)", (BIDEN,))
    a, b = load_article(BIDEN_OLD), load_article(BIDEN_NEW)
    for step, article in enumerate([a, b, a, b, a]):
        _fetch_page(store, config, article, 1_000 + step * 60_000)
    assert _alerts(store) == ["change"]
    # After the window, a flip is news again.
    _fetch_page(store, config, b, 1_000 + 2 * 3_600_000)
    assert _alerts(store) == ["change", "change"]


def test_failures_alert_once_then_once_on_recovery(tmp_path: Path) -> None:
    store, config = _store(tmp_path), _config(failure_alert_after=3)
    store.conn.execute("INSERT INTO articles (url, host, added_at) VALUES (?, 'h', 0)", (BIDEN,))
    _fetch_page(store, config, load_article(BIDEN_OLD), 500)
    for step in range(6):
        error = FetchError("HTTP 503", transient=True, status=503)
        apply_fetched(store, config, Fetched(_target(store), error=error), 1_000 + step)
    assert _alerts(store) == ["failing"]
    _fetch_page(store, config, load_article(BIDEN_OLD), 9_000)
    assert _alerts(store) == ["failing", "recovered"]


def test_routing_by_site_and_kind() -> None:
    targets = (
        NotifyTarget("json://x/all"),
        NotifyTarget("json://x/nyt", sites=("cn.nytimes.com",)),
        NotifyTarget("json://x/titles", kinds=("title",)),
    )
    config = Config(notify=NotifySettings(targets=targets))
    assert [t.url for t in routed_targets(config, BIDEN, ["body"])] == [
        "json://x/all",
        "json://x/nyt",
    ]
    assert [t.url for t in routed_targets(config, "https://example.org/a", ["title"])] == [
        "json://x/all",
        "json://x/titles",
    ]


def test_digest_batches_one_message_per_target(tmp_path: Path) -> None:
    import asyncio

    store = _store(tmp_path)
    config = _config(digest=True)
    store.conn.execute("INSERT INTO articles (url, host, added_at) VALUES (?, 'h', 0)", (BIDEN,))
    target = _target(store)
    for i in range(3):
        update = ArticleUpdate(10 + i, error="HTTP 404")
        result = CheckOutcome(target, "removed", update, ("removed",), "HTTP 404", None)
        with store.write():
            queue_alerts(store, config, result, 10 + i)
    sent: list[tuple[str, str]] = []

    async def fake_send(url: str, subject: str, body: str, fmt: str, key: str) -> None:
        sent.append((subject, body))

    report = asyncio.run(deliver(store, config, lambda: 100, fake_send))
    assert report.sent == 3 and len(sent) == 1 and sent[0][0] == "[digest] 3 changes"


def test_a_resent_alert_carries_the_same_key_by_webhook_and_email(tmp_path: Path) -> None:
    """A send whose "sent" mark was lost (a kill right after the target accepted it)
    goes again with the same key, so receivers can drop the repeat."""
    import asyncio

    store = _store(tmp_path)
    store.conn.execute("INSERT INTO articles (url, host, added_at) VALUES (?, 'h', 0)", (BIDEN,))
    target = _target(store)
    with smtp_server() as (mailbox, mail_url), webhook() as hook:
        targets = (NotifyTarget(hook.url), NotifyTarget(mail_url))
        config = Config(notify=NotifySettings(targets=targets))
        for i in range(2):
            update = ArticleUpdate(10 + i, error="HTTP 404")
            result = CheckOutcome(target, "removed", update, ("removed",), "HTTP 404", 10 + i)
            with store.write():
                queue_alerts(store, config, result, 10 + i)
        assert asyncio.run(deliver(store, config, lambda: 100)).sent == 4
        with store.write():  # the lost mark: the first alert is pending again
            store.conn.execute("UPDATE deliveries SET state = 'pending' WHERE alert_id = 1")
        assert asyncio.run(deliver(store, config, lambda: 200)).sent == 2
    mail_keys = [m["X-Article-Monitor-Alert"] for m in mailbox.messages]
    assert hook.keys == mail_keys == ["1.10", "2.11", "1.10"]
    assert [p["message"] for p in hook.once_each()] == [p["message"] for p in hook.posts[:2]]
