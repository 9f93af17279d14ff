"""What an emailed alert says, read back from a real SMTP server.

Each alert goes through the real delivery path (outbox, sender, smtplib) to an aiosmtpd
server on 127.0.0.1, and the received message is parsed with the email package.
"""

from __future__ import annotations

import asyncio
import re
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

from monitor.config import Config, NotifySettings, NotifyTarget
from monitor.diffing.diff import diff_articles
from monitor.diffing.render import DiffHeader
from monitor.notify.email_body import unpack
from monitor.notify.messages import change_text, removal_text
from monitor.notify.outbox import deliver, outbox
from monitor.notify.policy import queue
from monitor.storage.database import Store
from support.articles import art
from support.receivers import html_part, smtp_server
from support.smtp_refusing import partly_refusing_smtp_server, refusing_smtp_server

URL = "https://cn.nytimes.com/china/20240101/budget/"
OLD = ("项目花了5000多万元。", "这句话后来被删掉了。", "最后一段不变。")
NEW = ("项目花了6000多万元。", "最后一段不变。")


def _store(tmp_path: Path) -> tuple[Store, int]:
    store = Store.open(tmp_path / "state")
    store.conn.execute("INSERT INTO articles (url, host, added_at) VALUES (?, 'h', 0)", (URL,))
    return store, int(store.conn.execute("SELECT id FROM articles").fetchone()[0])


def _config(url: str, digest: bool = False) -> Config:
    settings = NotifySettings(targets=(NotifyTarget(url),), digest=digest, send_timeout_seconds=20)
    return Config(notify=settings)


def _queue_change(store: Store, config: Config, article_id: int, now: int) -> None:
    header = DiffHeader("预算 <调整>", URL, 1_000, 2_000, "", "")
    diff = diff_articles(art(*OLD), art(*NEW))
    text = change_text(header, diff, "change", config.notify.max_diff_blocks)
    with store.write():
        queue(store, config, article_id, URL, "change", diff.kinds, now, text, 2_000)


def _plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content())


class _Elements(HTMLParser):
    """Every element's name and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def _elements(document: str) -> _Elements:
    parser = _Elements()
    parser.feed(document)
    parser.close()
    return parser


def _assert_one_full_document(document: str) -> _Elements:
    parsed = _elements(document)
    assert parsed.doctype.lower() == "doctype html"
    tags = [tag for tag, _ in parsed.found]
    for once in ("html", "head", "body", "title"):
        assert tags.count(once) == 1, f"<{once}> {tags.count(once)} times"
    assert ("meta", {"charset": "utf-8"}) in parsed.found
    assert "style" not in tags  # styles inline: mail clients drop <style> unevenly
    return parsed


def test_a_change_email_states_the_edit_in_both_parts(tmp_path: Path) -> None:
    store, article_id = _store(tmp_path)
    with smtp_server() as (mailbox, url):
        config = _config(url)
        _queue_change(store, config, article_id, 10)
        report = asyncio.run(deliver(store, config, lambda: 100))
        assert report.sent == 1, outbox(store, config)
    [mail] = mailbox.messages
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["X-Article-Monitor-Alert"] == "1.10"  # the key the outbox dedupes by
    plain = _plain(mail)
    # The CJK edit: 5000多万 became 6000多万, each side in its own marker.
    assert "[-5-]{+6+}000多万" in plain
    assert "56000" not in plain  # what a tag-stripped HTML part says
    # A deletion-only edit reads as a deletion, not as text still there.
    assert "[-这句话后来被删掉了。-]" in plain
    assert f"Article: {URL}" in plain
    assert plain.rstrip().endswith(f"Whole diff: monitor diff {URL}")

    document = html_part(mail)
    parsed = _assert_one_full_document(document)
    marks = {tag: attrs for tag, attrs in parsed.found if tag in ("del", "ins")}
    assert "background" in str(marks["del"]["style"]) and "line-through" in str(
        marks["del"]["style"]
    )
    assert "background" in str(marks["ins"]["style"])
    assert re.search(r"<del [^>]*>5</del>", document) and re.search(r"<ins [^>]*>6</ins>", document)
    assert re.search(r"<del [^>]*>这句话后来被删掉了。</del>", document)
    assert f'href="{URL}"' in document and "预算 &lt;调整&gt;" in document


def test_a_digest_email_is_one_document_with_every_alert(tmp_path: Path) -> None:
    store, article_id = _store(tmp_path)
    with smtp_server() as (mailbox, url):
        config = _config(url, digest=True)
        _queue_change(store, config, article_id, 10)
        removed = removal_text("预算", URL, "HTTP 404", 20)
        with store.write():
            queue(store, config, article_id, URL, "removed", ["removed"], 20, removed)
        report = asyncio.run(deliver(store, config, lambda: 100))
        assert report.sent == 2, outbox(store, config)
    [mail] = mailbox.messages
    assert mail["Subject"] == "[digest] 2 changes"
    parsed = _assert_one_full_document(html_part(mail))
    assert [tag for tag, _ in parsed.found].count("hr") == 1  # between the two alerts
    plain = _plain(mail)
    assert "[-5-]{+6+}" in plain and "The article is gone (HTTP 404)" in plain


def test_a_refused_email_keeps_the_servers_reason(tmp_path: Path) -> None:
    store, article_id = _store(tmp_path)
    with refusing_smtp_server("550 5.1.1 mailbox unavailable") as url:
        config = _config(url)
        _queue_change(store, config, article_id, 10)
        report = asyncio.run(deliver(store, config, lambda: 100))
    assert report.retrying == 1
    [row] = outbox(store, config)
    assert "550" in str(row["last_error"]) and "mailbox unavailable" in str(row["last_error"])
    assert row["target"] == url  # no secret in it: shown exactly as written


def test_an_alert_queued_as_bare_html_still_gets_a_truthful_plain_part() -> None:
    """Alerts queued before both parts were stored: the plain part is read from the
    HTML's own <del>/<ins>, never by stripping them."""
    legacy = (
        '<h2><a href="https://x.test/a">标题</a></h2>\n<p>花了<del>5</del><ins>6</ins>000多万</p>'
    )
    body = unpack(legacy)
    assert body.html == legacy
    assert "花了[-5-]{+6+}000多万" in body.text and "https://x.test/a" in body.text


def test_an_email_partly_refused_is_sent_once_to_those_who_took_it(tmp_path: Path) -> None:
    """Retrying would mail the editor again and the refused address would refuse
    again: the delivery counts as sent."""
    store, article_id = _store(tmp_path)
    with partly_refusing_smtp_server("550 no such user", only="gone@example.test") as (
        server,
        url,
    ):
        config = _config(f"{url}&cc=gone@example.test")
        _queue_change(store, config, article_id, 10)
        report = asyncio.run(deliver(store, config, lambda: 100))
        again = asyncio.run(deliver(store, config, lambda: 10_000_000))
    assert report.sent == 1 and report.retrying == 0
    assert again.sent == 0
    assert server.accepted == ["editor@example.test"]


def test_url_headers_that_name_a_set_header_replace_it(tmp_path: Path) -> None:
    store, article_id = _store(tmp_path)
    with smtp_server() as (mailbox, url):
        config = _config(f"{url}&reply=desk@example.test&%2BReply-To=night@example.test")
        _queue_change(store, config, article_id, 10)
        report = asyncio.run(deliver(store, config, lambda: 100))
    assert report.sent == 1, outbox(store, config)
    [mail] = mailbox.messages
    assert mail.get_all("Reply-To") == ["night@example.test"]
