"""Notifications: a durable outbox, delivered through apprise.

An alert and its deliveries (one per matching target) are written in the same
transaction as the version that caused them, so a crash can never lose one. Delivery
happens afterwards; each target that fails is retried alone with exponential backoff
and given up after a configurable time, visibly (`monitor outbox`). A delivery is
marked sent right after the target accepted it, so in normal operation each target
gets each alert once. A kill in the instant between acceptance and that mark sends
that message again after the restart: no sender can know whether a target it lost
touch with took a message. So every message carries its alert's key in an
`X-Article-Monitor-Alert` header (email and webhooks), the same on every attempt,
and a receiver that drops keys it has seen gets each alert exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.render import (
    DiffHeader,
    local_time,
    md_escape,
    md_url,
    one_line,
    render,
    visible,
)

if TYPE_CHECKING:
    from monitor.config import Config, Target
    from monitor.store import Store

log = logging.getLogger("monitor.notify")
EMAIL_SCHEMES = ("mailto", "mailtos", "email")
MAX_PENDING_PER_ROUND = 2000


def target_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def mask_url(url: str) -> str:
    """A notification URL with its secrets hidden, for logs and output."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url)
    except Exception:
        plugin = None
    if not plugin:
        return f"{scheme}://****"
    masked: str = plugin.url(privacy=True)  # type: ignore[no-untyped-call]
    return masked


# -- queueing -------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertText:
    subject: str
    markdown: str
    html: str


def queue(
    store: Store,
    config: Config,
    article_id: int,
    url: str,
    event: str,
    kinds: list[str],
    now: int,
    text: AlertText,
    version_ts: int | None = None,
) -> int:
    """Write an alert and its deliveries; call inside the version's transaction."""
    cur = store.conn.execute(
        "INSERT INTO alerts (article_id, created_at, event, version_ts, kinds, subject, markdown,"
        " html) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            article_id,
            now,
            event,
            version_ts,
            json.dumps(kinds),
            text.subject,
            text.markdown,
            text.html,
        ),
    )
    alert_id = int(cur.lastrowid or 0)
    for target in routed_targets(config, url, kinds):
        store.conn.execute(
            "INSERT OR IGNORE INTO deliveries (alert_id, target, next_attempt_at) VALUES (?, ?, ?)",
            (alert_id, target_key(target.url), now),
        )
    return alert_id


def routed_targets(config: Config, url: str, kinds: list[str]) -> list[Target]:
    from monitor.urls import host_of

    host = host_of(url)
    chosen = []
    for target in config.notify.targets:
        if target.sites and host not in target.sites:
            continue
        if target.kinds and not set(kinds) & set(target.kinds):
            continue
        chosen.append(target)
    return chosen


def worth_notifying(config: Config, kinds: list[str]) -> bool:
    return bool(set(kinds) & set(config.notify.kinds))


def flipflop_suppressed(
    store: Store, config: Config, article_id: int, kinds: list[str], now: int
) -> bool:
    """A revert within the window after an alert for this article is the same cycle."""
    if "revert" not in kinds:
        return False
    window = int(config.notify.flipflop_window_hours * 3_600_000)
    row = store.conn.execute(
        "SELECT 1 FROM alerts WHERE article_id = ? AND event IN ('change', 'restored') "
        "AND created_at >= ? LIMIT 1",
        (article_id, now - window),
    ).fetchone()
    return row is not None


# Unchanged text kept on each side of an edit in a message: a one-word fix in a
# 5,000-character paragraph shows as the fix in its sentence, not the whole paragraph.
MESSAGE_CONTEXT_CHARS = 160


def change_text(config: Config, header: DiffHeader, diff: Any, event: str) -> AlertText:
    limit = config.notify.max_diff_blocks
    label = {"change": "changed", "restored": "restored"}.get(event, event)
    kinds = ", ".join(diff.kinds)
    context = MESSAGE_CONTEXT_CHARS
    return AlertText(
        subject=one_line(f"[{label}: {kinds}] {header.title}"),
        markdown=render("markdown", header, diff, limit, context),
        html=render("html", header, diff, limit, context),
    )


def plain_text(subject: str, title: str, url: str, lines: list[str]) -> AlertText:
    import html

    title, url, lines = visible(title), visible(url), [visible(x) for x in lines]
    md = "\n\n".join([f"**[{md_escape(title)}]({md_url(url)})**", *(md_escape(x) for x in lines)])
    body = "".join(f"<p>{html.escape(x)}</p>" for x in lines)
    link = f'<h2><a href="{html.escape(url, quote=True)}">{html.escape(title)}</a></h2>'
    return AlertText(one_line(subject), md + "\n", link + body + "\n")


def removal_text(title: str, url: str, why: str, ts: int) -> AlertText:
    return plain_text(
        f"[removed] {title}",
        title,
        url,
        [
            f"The article is gone ({why}), seen at {local_time(ts)}.",
            "Its last text is kept in the history.",
        ],
    )


# -- delivery -------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


# (url, subject, body, body_format, alert key) -> awaitable
Sender = Callable[[str, str, str, str, str], Any]
KEY_HEADER = "X-Article-Monitor-Alert"


async def apprise_send(
    url: str, subject: str, body: str, body_format: str, key: str = "", timeout: float = 30.0
) -> str | None:
    """Send one message to one target; None on success, else why it failed."""
    import apprise

    # A fresh object per send: plugins otherwise sleep between sends to one object.
    ap = apprise.Apprise()
    if not ap.add(_with_key(url, key)):
        return "invalid notification URL"
    for server in ap:
        server.request_rate_per_sec = 0
    try:
        result = await asyncio.wait_for(
            ap.async_notify(body=body, title=subject, body_format=body_format), timeout
        )
    except TimeoutError:
        return f"timed out after {timeout:g} s"
    return None if result else f"delivery failed ({_status(result)})"


def _with_key(url: str, key: str) -> str:
    """The target URL with the alert key as a custom header (apprise's `+Name=value`);
    plugins without custom headers ignore it."""
    if not key:
        return url
    return f"{url}{'&' if '?' in url else '?'}%2B{KEY_HEADER}={key}"


def alert_key(batch: list[Any]) -> str:
    """Stable across attempts: the alert's id and creation time (ids alone could
    repeat in a new database)."""
    first, last = batch[0], batch[-1]
    ids = str(first["alert_id"]) if len(batch) == 1 else f"{first['alert_id']}-{last['alert_id']}"
    return f"{ids}.{first['created_at']}"


def _status(result: Any) -> str:
    status = getattr(result, "status", None)
    return str(getattr(status, "name", status) or "failure").lower()


async def deliver(
    store: Store, config: Config, now: Callable[[], int], send: Sender | None = None
) -> DeliveryReport:
    """Deliver every due delivery; targets in parallel, alerts in order per target."""
    sender = send or (
        lambda url, subject, body, fmt, key: apprise_send(
            url, subject, body, fmt, key, config.notify.send_timeout_seconds
        )
    )
    by_key = {target_key(t.url): t for t in config.notify.targets}
    rows = store.conn.execute(
        "SELECT d.alert_id, d.target, d.attempts, d.next_attempt_at, a.created_at, a.subject, "
        "a.markdown, a.html FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
        "WHERE d.state = 'pending' ORDER BY d.alert_id LIMIT ?",
        (MAX_PENDING_PER_ROUND,),
    ).fetchall()
    # Alerts reach a target in the order they were raised: one still waiting out its
    # backoff holds back the later ones to the same target.
    current = now()
    queues: dict[str, list[Any]] = {}
    blocked: set[str] = set()
    for row in rows:
        key = row["target"]
        if key in blocked:
            continue
        if row["next_attempt_at"] > current:
            blocked.add(key)
            continue
        queues.setdefault(key, []).append(row)
    report = DeliveryReport()
    await asyncio.gather(
        *(
            _deliver_to(store, config, by_key.get(key), key, items, now, sender, report)
            for key, items in queues.items()
        )
    )
    return report


async def _deliver_to(
    store: Store,
    config: Config,
    target: Target | None,
    key: str,
    items: list[Any],
    now: Callable[[], int],
    send: Sender,
    report: DeliveryReport,
) -> None:
    batches = [items] if config.notify.digest and len(items) > 1 else [[i] for i in items]
    for batch in batches:
        if target is None:
            error: str | None = "target is no longer configured"
        else:
            _count_attempt(store, batch)
            error = await send(target.url, *_message(target.url, batch), alert_key(batch))
        name = mask_url(target.url) if target else key
        if error is None:
            log.info("delivered %d alert(s) to %s", len(batch), name)
        else:
            log.warning("delivery to %s failed: %s", name, error)
        _settle(store, config, batch, error, now(), report)
        if error is not None:
            break  # keep alerts to one target in order: the rest wait for this one


def _count_attempt(store: Store, batch: list[Any]) -> None:
    """Record the attempt before sending. If the database cannot take this write (a
    full disk), nothing is sent: a message whose delivery could not be marked would
    be sent again after a restart."""
    with store.write():
        for row in batch:
            store.conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1 WHERE alert_id = ? AND target = ?",
                (row["alert_id"], row["target"]),
            )


def _message(url: str, batch: list[Any]) -> tuple[str, str, str]:
    email = url.split("://", 1)[0].lower() in EMAIL_SCHEMES
    if len(batch) == 1:
        row = batch[0]
        return row["subject"], row["html"] if email else row["markdown"], _fmt(email)
    subject = f"[digest] {len(batch)} changes"
    separator = "\n<hr>\n" if email else "\n---\n\n"
    body = separator.join(r["html"] if email else r["markdown"] for r in batch)
    return subject, body, _fmt(email)


def _fmt(email: bool) -> str:
    return "html" if email else "markdown"


def _settle(
    store: Store,
    config: Config,
    batch: list[Any],
    error: str | None,
    now: int,
    report: DeliveryReport,
) -> None:
    with store.write():
        for row in batch:
            if error is None:
                store.conn.execute(
                    "UPDATE deliveries SET state = 'sent', sent_at = ?,"
                    " last_error = NULL WHERE alert_id = ? AND target = ?",
                    (now, row["alert_id"], row["target"]),
                )
                report.sent += 1
                continue
            attempts = row["attempts"] + 1
            give_up = now - row["created_at"] >= config.notify.give_up_after_hours * 3_600_000
            delay = min(
                config.notify.retry_initial_seconds * 2 ** (attempts - 1),
                config.notify.retry_max_seconds,
            )
            store.conn.execute(
                "UPDATE deliveries SET state = ?, attempts = ?, last_error = ?, "
                "next_attempt_at = ? WHERE alert_id = ? AND target = ?",
                (
                    "failed" if give_up else "pending",
                    attempts,
                    error,
                    now + int(delay * 1000),
                    row["alert_id"],
                    row["target"],
                ),
            )
            if give_up:
                report.failed += 1
            else:
                report.retrying += 1


def outbox(store: Store, config: Config, include_sent: bool = False) -> list[dict[str, Any]]:
    names = {target_key(t.url): mask_url(t.url) for t in config.notify.targets}
    states = ("pending", "failed", "sent") if include_sent else ("pending", "failed")
    rows = store.conn.execute(
        "SELECT d.*, a.subject, a.event, a.created_at, a.article_id FROM deliveries d "
        f"JOIN alerts a ON a.id = d.alert_id WHERE d.state IN ({','.join('?' * len(states))}) "
        "ORDER BY d.alert_id",
        states,
    ).fetchall()
    return [
        {
            "alert_id": r["alert_id"],
            "article_id": r["article_id"],
            "event": r["event"],
            "subject": r["subject"],
            "target": names.get(r["target"], r["target"]),
            "state": r["state"],
            "attempts": r["attempts"],
            "last_error": r["last_error"],
            "created_at": r["created_at"],
            "next_attempt_at": r["next_attempt_at"],
        }
        for r in rows
    ]


def retry_failed(store: Store, now: int) -> int:
    with store.write():
        cur = store.conn.execute(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ? WHERE state = 'failed'",
            (now,),
        )
    return cur.rowcount


async def send_test(config: Config) -> list[tuple[str, str | None]]:
    """Send a test message to every target; (masked URL, error or None) each."""
    results = []
    for target in config.notify.targets:
        email = target.url.split("://", 1)[0].lower() in EMAIL_SCHEMES
        body = (
            "<p>article-monitor test message: this target works.</p>"
            if email
            else "article-monitor test message: this target works."
        )
        error = await apprise_send(
            target.url,
            "article-monitor test",
            body,
            _fmt(email),
            timeout=config.notify.send_timeout_seconds,
        )
        results.append((mask_url(target.url), error))
    return results
