"""Delivering the outbox: each due delivery sent once, retried alone with backoff.

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
import logging
from collections.abc import Callable
from dataclasses import dataclass

from monitor.clock import hours_ms, seconds_ms
from monitor.config import Config, NotifyTarget
from monitor.masking import mask_url
from monitor.notify.messages import test_message
from monitor.notify.policy import target_key
from monitor.notify.sending import Sender, apprise_send, body_format, is_email
from monitor.storage.database import Store
from monitor.storage.outbox import DueDelivery

log = logging.getLogger("monitor.notify")
MAX_PENDING_PER_ROUND = 2000


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def alert_key(batch: list[DueDelivery]) -> str:
    """Stable across attempts: the alert's id and creation time (ids alone could
    repeat in a new database)."""
    first, last = batch[0], batch[-1]
    ids = str(first.alert_id) if len(batch) == 1 else f"{first.alert_id}-{last.alert_id}"
    return f"{ids}.{first.created_at}"


async def deliver(
    store: Store, config: Config, now: Callable[[], int], send: Sender | None = None
) -> DeliveryReport:
    """Deliver every due delivery; targets in parallel, alerts in order per target."""
    timeout = config.notify.send_timeout_seconds

    async def default_send(url: str, subject: str, body: str, fmt: str, key: str) -> str | None:
        return await apprise_send(url, subject, body, fmt, key, timeout)

    sender = send or default_send
    by_key = {target_key(t.url): t for t in config.notify.targets}
    queues = _due_by_target(store.due_deliveries(MAX_PENDING_PER_ROUND), now())
    report = DeliveryReport()
    await asyncio.gather(
        *(
            _deliver_to(store, config, by_key.get(key), key, items, now, sender, report)
            for key, items in queues.items()
        )
    )
    return report


def _due_by_target(rows: list[DueDelivery], current: int) -> dict[str, list[DueDelivery]]:
    """Alerts reach a target in the order they were raised: one still waiting out its
    backoff holds back the later ones to the same target."""
    queues: dict[str, list[DueDelivery]] = {}
    blocked: set[str] = set()
    for row in rows:
        if row.target in blocked:
            continue
        if row.next_attempt_at > current:
            blocked.add(row.target)
            continue
        queues.setdefault(row.target, []).append(row)
    return queues


async def _deliver_to(
    store: Store,
    config: Config,
    target: NotifyTarget | None,
    key: str,
    items: list[DueDelivery],
    now: Callable[[], int],
    send: Sender,
    report: DeliveryReport,
) -> None:
    batches = [items] if config.notify.digest and len(items) > 1 else [[i] for i in items]
    for batch in batches:
        _count_attempt(store, batch)
        if target is None:
            error: str | None = "target is no longer configured"
        else:
            error = await send(target.url, *_message(target.url, batch), alert_key(batch))
        name = mask_url(target.url) if target else key
        if error is None:
            log.info("delivered %d alert(s) to %s", len(batch), name)
        else:
            log.warning("delivery to %s failed: %s", name, error)
        _settle(store, config, batch, error, now(), report)
        if error is not None:
            break  # keep alerts to one target in order: the rest wait for this one


def _count_attempt(store: Store, batch: list[DueDelivery]) -> None:
    """Record the attempt before sending. If the database cannot take this write (a
    full disk), nothing is sent: a message whose delivery could not be marked would
    be sent again after a restart."""
    with store.write():
        for row in batch:
            store.count_attempt(row.alert_id, row.target)


def _message(url: str, batch: list[DueDelivery]) -> tuple[str, str, str]:
    email = is_email(url)
    if len(batch) == 1:
        row = batch[0]
        return row.subject, row.html if email else row.markdown, body_format(email)
    subject = f"[digest] {len(batch)} changes"
    separator = "\n<hr>\n" if email else "\n---\n\n"
    body = separator.join(r.html if email else r.markdown for r in batch)
    return subject, body, body_format(email)


def _settle(
    store: Store,
    config: Config,
    batch: list[DueDelivery],
    error: str | None,
    now: int,
    report: DeliveryReport,
) -> None:
    settings = config.notify
    with store.write():
        for row in batch:
            if error is None:
                store.mark_sent(row.alert_id, row.target, now)
                report.sent += 1
                continue
            attempts = row.attempts + 1
            give_up = now - row.created_at >= hours_ms(settings.give_up_after_hours)
            delay = min(
                settings.retry_initial_seconds * 2 ** (attempts - 1), settings.retry_max_seconds
            )
            store.mark_failed_attempt(
                row.alert_id, row.target, error, now + seconds_ms(delay), give_up
            )
            if give_up:
                report.failed += 1
            else:
                report.retrying += 1


def outbox(store: Store, config: Config, include_sent: bool = False) -> list[dict[str, object]]:
    names = {target_key(t.url): mask_url(t.url) for t in config.notify.targets}
    return [
        {
            "alert_id": e.alert_id,
            "article_id": e.article_id,
            "event": e.event,
            "subject": e.subject,
            "target": names.get(e.target, e.target),
            "state": e.state,
            "attempts": e.attempts,
            "last_error": e.last_error,
            "created_at": e.created_at,
            "next_attempt_at": e.next_attempt_at,
        }
        for e in store.outbox_entries(include_sent)
    ]


def retry_failed(store: Store, now: int) -> int:
    with store.write():
        return store.retry_failed(now)


async def send_test(config: Config) -> list[tuple[str, str | None]]:
    """Send a test message to every target; (masked URL, error or None) each."""
    results = []
    for target in config.notify.targets:
        email = is_email(target.url)
        error = await apprise_send(
            target.url,
            "article-monitor test",
            test_message(email),
            body_format(email),
            timeout=config.notify.send_timeout_seconds,
        )
        results.append((mask_url(target.url), error))
    return results
