"""What alerts, and when: the rules that turn a check's outcome into alerts.

Alerts go into the outbox in the same transaction as what caused them, so a crash can
never lose one (see outbox.py for delivery).
"""

from __future__ import annotations

import hashlib

from monitor.clock import hours_ms
from monitor.config import Config, NotifyTarget
from monitor.history.reading import diff
from monitor.notify.email_body import EmailBody, pack
from monitor.notify.messages import AlertText, change_text, health_text, removal_text
from monitor.outcome import CheckOutcome
from monitor.storage.database import Store
from monitor.storage.outbox import NewAlert
from monitor.urls import host_of


def target_key(url: str) -> str:
    """How the outbox names a target: a hash, since target URLs carry secrets."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def routed_targets(config: Config, url: str, kinds: list[str]) -> list[NotifyTarget]:
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
    since = now - hours_ms(config.notify.flipflop_window_hours)
    return store.content_alert_since(article_id, since)


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
    """Write an alert and one delivery per matching target; call inside the
    transaction of what caused it."""
    email = pack(EmailBody(text.html, text.text))  # both parts of the email, as one body
    alert = NewAlert(article_id, now, event, version_ts, kinds, text.subject, text.markdown, email)
    keys = [target_key(t.url) for t in routed_targets(config, url, kinds)]
    return store.add_alert(alert, keys)


def queue_alerts(store: Store, config: Config, result: CheckOutcome, now: int) -> None:
    """The alerts a check's outcome raises, written to the outbox."""
    target = result.target
    threshold = config.notify.failure_alert_after
    if result.outcome == "unchanged" and target.failures < threshold:
        return  # the common case: nothing to say
    title = store.article_title(target.id) or target.url
    kinds = list(result.kinds)
    if result.outcome in ("changed", "restored") and result.version_ts is not None:
        if not worth_notifying(config, kinds) or flipflop_suppressed(
            store, config, target.id, kinds, now
        ):
            return
        header, change = diff(store, str(target.id), None, result.version_ts)
        event = "restored" if result.outcome == "restored" else "change"
        text = change_text(header, change, event, config.notify.max_diff_blocks)
        queue(store, config, target.id, target.url, event, kinds, now, text, result.version_ts)
    elif result.outcome == "removed" and worth_notifying(config, ["removed"]):
        text = removal_text(title, target.url, result.detail, now)
        queue(
            store,
            config,
            target.id,
            target.url,
            "removed",
            ["removed"],
            now,
            text,
            result.version_ts,
        )
    elif (
        result.outcome == "error"
        and target.failures + 1 == threshold
        and worth_notifying(config, ["failing"])
    ):
        line = f"{threshold} checks in a row failed; the last: {result.detail}."
        _queue_health(store, config, result, title, "failing", line, now)
    recovered = result.outcome not in ("error", "missing") and target.failures >= threshold
    if recovered and worth_notifying(config, ["recovered"]):
        line = f"Checks work again after {target.failures} failures."
        _queue_health(store, config, result, title, "recovered", line, now)


def _queue_health(
    store: Store,
    config: Config,
    result: CheckOutcome,
    title: str,
    event: str,
    line: str,
    now: int,
) -> None:
    text = health_text(event, title, result.url, line)
    queue(store, config, result.article_id, result.url, event, [event], now, text)
