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
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from monitor import identity
from monitor.clock import hours_ms, seconds_ms
from monitor.config import Config, NotifyTarget
from monitor.masking import mask_url
from monitor.notify.chat import DIGEST_SEPARATOR
from monitor.notify.email_body import EmailBody, unpack
from monitor.notify.messages import TEST_LINE, test_message
from monitor.notify.policy import target_key
from monitor.notify.sending import (
    EMAIL_FORMAT,
    Sender,
    apprise_send,
    body_format,
    email_document,
    is_email,
)
from monitor.storage.database import Store
from monitor.storage.outbox import DueDelivery

log = logging.getLogger("monitor.notify")
MAX_PENDING_PER_ROUND = 2000


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def alert_key(row: DueDelivery) -> str:
    """Stable across attempts: the alert's id and creation time (ids alone could
    repeat in a new database)."""
    return f"{row.alert_id}.{row.created_at}"


def digest_key(batch: list[DueDelivery]) -> str:
    """A digest's key, fixed when the digest is first sent: later attempts send the
    same alerts under the same key, however many alerts have queued since."""
    first, last = batch[0], batch[-1]
    return f"{first.alert_id}-{last.alert_id}.{first.created_at}"


def message_key(batch: list[DueDelivery]) -> str:
    return batch[0].batch_key or alert_key(batch[0])


def lease_ms(config: Config) -> int:
    """A delivery lease outlasts one send (its timeout) with room for a slow machine."""
    return seconds_ms(2 * config.notify.send_timeout_seconds + 30)


async def deliver(
    store: Store,
    config: Config,
    now: Callable[[], int],
    send: Sender | None = None,
    owner: str | None = None,
) -> DeliveryReport:
    """Deliver every due delivery this process can claim; targets in parallel, alerts
    in order per target."""
    timeout = config.notify.send_timeout_seconds

    async def default_send(url: str, subject: str, body: str, fmt: str, key: str) -> str | None:
        return await apprise_send(url, subject, body, fmt, key, timeout)

    sender = send or default_send
    by_key = {target_key(t.url): t for t in config.notify.targets}
    claimed = _claim(store, config, now(), owner or identity.owner())
    report = DeliveryReport()
    await asyncio.gather(
        *(
            _deliver_to(store, config, by_key.get(key), key, batches, now, sender, report)
            for key, batches in claimed.items()
        )
    )
    return report


def _claim(
    store: Store, config: Config, current: int, owner: str
) -> dict[str, list[list[DueDelivery]]]:
    """Lease what is due, per target the leading run in alert order, as batches."""
    claimed: dict[str, list[list[DueDelivery]]] = {}
    with store.write():
        store.release_dead_claims(current)  # a sender killed mid-send holds up nobody
        queues = _due_by_target(store.due_deliveries(MAX_PENDING_PER_ROUND), current)
        for key, rows in queues.items():
            mine = []
            for row in rows:
                got = store.claim_delivery(row, current, lease_ms(config), owner)
                if got is None:
                    break  # another sender has it: the later ones wait, in order
                mine.append(got)
            if mine:
                claimed[key] = _batches(store, config, mine)
    return claimed


def _due_by_target(rows: list[DueDelivery], current: int) -> dict[str, list[DueDelivery]]:
    """Alerts reach a target in the order they were raised: one still waiting out its
    backoff, or being sent by another process, holds back the later ones."""
    queues: dict[str, list[DueDelivery]] = {}
    blocked: set[str] = set()
    for row in rows:
        if row.target in blocked:
            continue
        claimed = row.claimed_until is not None and row.claimed_until > current
        if row.next_attempt_at > current or claimed:
            blocked.add(row.target)
            continue
        queues.setdefault(row.target, []).append(row)
    return queues


def _batches(store: Store, config: Config, rows: list[DueDelivery]) -> list[list[DueDelivery]]:
    """One message per alert; in digest mode the alerts not yet in a digest form one,
    whose key and members are then fixed. A digest already tried keeps its members."""
    batches: list[list[DueDelivery]] = []
    loose: list[DueDelivery] = []
    for row in rows:
        if row.batch_key is not None:
            if batches and batches[-1][0].batch_key == row.batch_key:
                batches[-1].append(row)
            else:
                batches.append([row])
        elif config.notify.digest:
            loose.append(row)
        else:
            batches.append([row])
    if loose:
        # Fixed at the first attempt, a lone alert included: if this send is cut off,
        # the retry sends the same alerts under the same key, never a regrouping.
        key = alert_key(loose[0]) if len(loose) == 1 else digest_key(loose)
        for row in loose:
            store.fix_batch_key(row, key)
        batches.append([dataclasses.replace(row, batch_key=key) for row in loose])
    return batches


async def _deliver_to(
    store: Store,
    config: Config,
    target: NotifyTarget | None,
    key: str,
    batches: list[list[DueDelivery]],
    now: Callable[[], int],
    send: Sender,
    report: DeliveryReport,
) -> None:
    for index, batch in enumerate(batches):
        if not _count_attempt(store, batch):
            log.warning("delivery of alert %d was taken over by another sender", batch[0].alert_id)
            _release(store, batches[index:])
            return
        if target is None:
            error: str | None = "target is no longer configured"
        else:
            error = await send(target.url, *_message(target.url, batch), message_key(batch))
        name = mask_url(target.url) if target else key
        if error is None:
            log.info("delivered %d alert(s) to %s", len(batch), name)
        else:
            log.warning("delivery to %s failed: %s", name, error)
        _settle(store, config, batch, error, now(), report)
        if error is not None:
            _release(store, batches[index + 1 :])  # the rest wait for this one, in order
            return


def _count_attempt(store: Store, batch: list[DueDelivery]) -> bool:
    """Record the attempt before sending. If the database cannot take this write (a
    full disk), nothing is sent: a message whose delivery could not be marked would
    be sent again after a restart."""
    with store.write():
        return all([store.count_attempt(row) for row in batch])


def _release(store: Store, batches: list[list[DueDelivery]]) -> None:
    with store.write():
        for batch in batches:
            for row in batch:
                store.release_delivery(row)


def _message(url: str, batch: list[DueDelivery]) -> tuple[str, str, str]:
    email = is_email(url)
    subject = batch[0].subject if len(batch) == 1 else f"[digest] {len(batch)} changes"
    if email:
        return subject, email_document(subject, [unpack(r.html) for r in batch]), EMAIL_FORMAT
    return subject, DIGEST_SEPARATOR.join(r.markdown for r in batch), body_format(email)


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
                kept = store.mark_sent(row, now)
                report.sent += 1
            else:
                attempts = row.attempts + 1
                give_up = now - row.created_at >= hours_ms(settings.give_up_after_hours)
                delay = min(
                    settings.retry_initial_seconds * 2 ** (attempts - 1),
                    settings.retry_max_seconds,
                )
                kept = store.mark_failed_attempt(row, error, now + seconds_ms(delay), give_up)
                if give_up:
                    report.failed += 1
                else:
                    report.retrying += 1
            if not kept:
                log.warning(
                    "alert %d: lease lost while sending; outcome not recorded", row.alert_id
                )


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
        subject = "article-monitor test"
        body = test_message(email)
        if email:
            body = email_document(subject, [EmailBody(body, TEST_LINE + "\n")])
        error = await apprise_send(
            target.url,
            subject,
            body,
            body_format(email),
            timeout=config.notify.send_timeout_seconds,
        )
        results.append((mask_url(target.url), error))
    return results
