"""Settings: defaults < config file (TOML) < environment < command-line flags.

Every setting is declared once here, with its default and a comment; `monitor config`
prints the effective values (secrets masked). A bad value is an error naming the key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

NOTIFY_KINDS = (
    "title",
    "byline",
    "body",
    "image",
    "footer",
    "correction",
    "removed",
    "restored",
    "failing",
    "recovered",
)


def default_user_agent() -> str:
    from monitor import version

    return f"article-monitor/{version()} (news edit tracker)"


@dataclass(frozen=True)
class FetchSettings:
    timeout_s: float = 20.0  # per read and connect step
    total_timeout_s: float = 60.0  # the whole request, however slowly bytes arrive
    connect_timeout_s: float = 10.0
    max_redirects: int = 5
    max_bytes: int = 5 * 1024 * 1024  # decoded body cap (gzip bombs)
    user_agent: str = ""  # empty: article-monitor/<version> (news edit tracker)
    concurrency: int = 10
    per_host_concurrency: int = 2
    per_host_delay_s: float = 1.0
    retries: int = 2
    backoff_s: float = 1.0
    max_retry_after_s: float = 60.0
    transport: str = "aiohttp"  # aiohttp (lean transport over aiohttp) | httpx
    # Fetch private, loopback, link-local and metadata addresses too (mirror targets
    # are always allowed); off by default so a URL cannot probe the local network.
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class SchedulePolicy:
    """When to check an article again (see monitor.runner.schedule)."""

    # [age under (minutes), check every (minutes)], youngest first
    steps: tuple[tuple[float, float], ...] = ((180, 15), (1440, 60), (10080, 240), (43200, 1440))
    old_interval_minutes: float = 10080.0  # older than the last step: weekly
    stop_after_days: float = 90.0  # no more checks after this long without a change
    max_backoff_minutes: float = 1440.0  # failures double the interval up to this
    jitter_fraction: float = 0.1  # +/- this share of the interval, per article


@dataclass(frozen=True)
class CheckSettings:
    removal_confirmations: int = 2  # 404/410 seen this many checks in a row = removed
    shrink_ratio: float = 0.5  # a text this much shorter than the last is held as suspect
    parse_workers: int = 1  # processes that parse pages beside the checking one; 0 = none


@dataclass(frozen=True)
class DaemonSettings:
    tick_seconds: float = 30.0  # heartbeat and outbox period; idle look for due articles
    batch_size: int = 200  # most articles claimed at once
    lease_seconds: float = 600.0  # a claim's lease: must outlast a check (total_timeout_s)
    spread_seconds: float = 600.0  # overdue articles after a restart are spread over this
    grace_seconds: float = 20.0  # on SIGTERM, in-flight checks get this long to finish
    seeds: str = "seeds"  # imported on first start with an empty database ("" = none)
    log_format: str = "text"  # text | json
    log_level: str = "info"


@dataclass(frozen=True)
class NotifyTarget:
    """Where alerts go: an apprise URL, optionally only for some sites and kinds."""

    url: str
    sites: tuple[str, ...] = ()  # only articles on these hosts (empty: all)
    kinds: tuple[str, ...] = ()  # only these change kinds (empty: all that notify)


@dataclass(frozen=True)
class NotifySettings:
    targets: tuple[NotifyTarget, ...] = ()
    kinds: tuple[str, ...] = NOTIFY_KINDS  # what notifies at all
    flipflop_window_hours: float = 24.0  # one alert per article per A/B/A cycle in this
    failure_alert_after: int = 5  # consecutive fetch failures before one alert
    retry_initial_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    give_up_after_hours: float = 48.0
    send_timeout_seconds: float = 30.0
    digest: bool = False  # alerts due together to one target: one message, key fixed
    max_diff_blocks: int = 8  # longer diffs are trimmed with a note


@dataclass(frozen=True)
class Config:
    fetch: FetchSettings = field(default_factory=FetchSettings)
    check: CheckSettings = field(default_factory=CheckSettings)
    schedule: SchedulePolicy = field(default_factory=SchedulePolicy)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    # canonical URL prefix -> prefix to fetch it through (mirrors, proxies, test servers)
    mirrors: tuple[tuple[str, str], ...] = ()
    source: str = "defaults"  # the config file read, if any
    # Where each setting that is not its default came from ("daemon.tick_seconds" ->
    # the file or variable): what `monitor config` shows. Not part of the settings.
    origins: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def mirror_endpoints(self) -> frozenset[tuple[str, int]]:
        """(host, port) of each mirror target: chosen by the user, always allowed."""
        from urllib.parse import urlsplit

        found = set()
        for _, target in self.mirrors:
            parts = urlsplit(target)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            found.add(((parts.hostname or "").lower().rstrip("."), port))
        return frozenset(found)

    def fetch_url(self, canonical_url: str) -> str:
        for prefix, target in self.mirrors:
            if canonical_url.startswith(prefix):
                return target + canonical_url[len(prefix) :]
        return canonical_url


SECTIONS = ("fetch", "check", "schedule", "daemon", "notify")
ENV_SETTINGS = ("MONITOR_MIRRORS", "MONITOR_NOTIFY")  # applied after the file, in this order


def load(path: Path | None = None) -> Config:
    config = Config()
    file = path or _env_path()
    if file is not None:
        config = _apply_file(config, file)
    return _apply_env(config)


def _env_path() -> Path | None:
    value = os.environ.get("MONITOR_CONFIG")
    return Path(value) if value else None


def _apply_env(config: Config) -> Config:
    mirrors = os.environ.get("MONITOR_MIRRORS")
    if mirrors:
        config = replace(config, mirrors=parse_mirrors(mirrors, "MONITOR_MIRRORS"))
        config = _set_by(config, "mirrors", "MONITOR_MIRRORS", replaces=True)
    notify = os.environ.get("MONITOR_NOTIFY")
    if notify:
        extra = tuple(NotifyTarget(url) for url in notify.split())
        config = replace(
            config, notify=replace(config.notify, targets=config.notify.targets + extra)
        )
        # Targets from the environment add to the file's: both are named.
        config = _set_by(config, "notify.targets", "MONITOR_NOTIFY", replaces=False)
    return config


def _set_by(config: Config, key: str, origin: str, *, replaces: bool) -> Config:
    """Record that `origin` set `key` (alone, or beside an earlier origin)."""
    origins = dict(config.origins)
    if key in origins and not replaces:
        origin = f"{origins[key]} + {origin}"
    origins[key] = origin
    return replace(config, origins=tuple(origins.items()))


def no_targets_warning(config: Config) -> str | None:
    """Said by `run` at start and by `status`: changes are recorded, nobody is told."""
    if config.notify.targets:
        return None
    return (
        "no notification target configured: changes are recorded but nobody is told "
        "(set notify.targets in the config file or MONITOR_NOTIFY)"
    )


def parse_mirrors(value: str, where: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in value.split():
        prefix, sep, target = item.partition("=")
        if not sep or not prefix.startswith("http") or not target.startswith("http"):
            raise ConfigError(f"{where}: expected CANONICAL_PREFIX=FETCH_PREFIX, got {item!r}")
        pairs.append((prefix, target))
    return tuple(pairs)


def _apply_file(config: Config, path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    mirrors = data.pop("mirrors", {})
    if not isinstance(mirrors, dict) or not all(isinstance(v, str) for v in mirrors.values()):
        raise ConfigError(f"{path}: mirrors: must map URL prefixes to URL prefixes")
    config = replace(config, mirrors=tuple(mirrors.items()), source=str(path))
    notify = dict(data.pop("notify", {}))
    targets = _targets(notify.pop("targets", []), f"{path}: notify.targets")
    for section in SECTIONS:
        table = notify if section == "notify" else data.pop(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section}: must be a table")
        current = getattr(config, section)
        config = replace(config, **{section: _typed(current, table, f"{path}: {section}")})
    config = replace(config, notify=replace(config.notify, targets=targets))
    if data:
        raise ConfigError(f"{path}: {next(iter(data))}: unknown setting")
    _validate(config, str(path))
    return replace(config, origins=_file_origins(config, str(path)))


def _file_origins(config: Config, origin: str) -> tuple[tuple[str, str], ...]:
    """Every setting the file gave a value other than the default."""
    defaults = Config()
    found = [
        (f"{s}.{f.name}", origin)
        for s, f in _settings()
        if _get(config, s, f.name) != _get(defaults, s, f.name)
    ]
    if config.mirrors:
        found.append(("mirrors", origin))
    return tuple(found)


def _settings() -> list[tuple[str, Any]]:
    return [(section, f) for section in SECTIONS for f in fields(getattr(Config(), section))]


def _get(config: Config, section: str, name: str) -> Any:
    return getattr(getattr(config, section), name)


def _targets(raw: Any, where: str) -> tuple[NotifyTarget, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: must be a list of URLs or tables")
    targets = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            targets.append(NotifyTarget(item))
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            targets.append(_typed(NotifyTarget(item["url"]), item, f"{where}[{index}]"))
        else:
            raise ConfigError(f"{where}[{index}]: expected a URL or a table with url = ...")
    return tuple(targets)


def _typed(target: Any, table: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(target) if f.name != "targets"}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown setting")
        values[key] = _coerce(getattr(target, key), value, f"{where}.{key}")
    return replace(target, **values)


def _coerce(default: Any, value: Any, where: str) -> Any:
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
        raise ConfigError(f"{where}: expected {expected.__name__}, got {value!r}")
    return value


def _validate(config: Config, where: str) -> None:
    if config.fetch.transport not in ("aiohttp", "httpx"):
        raise ConfigError(f"{where}: fetch.transport: expected 'aiohttp' or 'httpx'")
    if config.daemon.log_format not in ("text", "json"):
        raise ConfigError(f"{where}: daemon.log_format: expected 'text' or 'json'")
    unknown = set(config.notify.kinds) - set(NOTIFY_KINDS) - {"metadata", "minor"}
    if unknown:
        raise ConfigError(f"{where}: notify.kinds: unknown kind {sorted(unknown)[0]!r}")
    if not 0 <= config.check.parse_workers <= 64:
        raise ConfigError(f"{where}: check.parse_workers: expected 0 to 64")
    for name in ("tick_seconds", "batch_size"):
        if getattr(config.daemon, name) <= 0:
            raise ConfigError(f"{where}: daemon.{name}: must be positive")
    if config.daemon.lease_seconds <= config.fetch.total_timeout_s:
        raise ConfigError(
            f"{where}: daemon.lease_seconds: must be longer than fetch.total_timeout_s"
            " (a lease must outlast the check it covers)"
        )
    for step in config.schedule.steps:
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in step)
        if len(step) != 2 or not numbers or min(step) <= 0:
            raise ConfigError(f"{where}: schedule.steps: expected [[age_minutes, every_minutes]]")


def effective(config: Config) -> dict[str, Any]:
    """The settings as a nested dict, secrets in notification URLs masked."""
    from monitor.masking import mask_credentials, mask_url

    out: dict[str, Any] = {"source": _sources(config), "set_by": dict(config.origins)}
    for section in SECTIONS:
        values = {
            f.name: getattr(getattr(config, section), f.name)
            for f in fields(getattr(config, section))
        }
        if section == "notify":
            values["targets"] = [
                {"url": mask_url(t.url), "sites": list(t.sites), "kinds": list(t.kinds)}
                for t in config.notify.targets
            ]
        out[section] = {
            k: list(v) if isinstance(v, tuple) and k != "targets" else v for k, v in values.items()
        }
    out["mirrors"] = {mask_credentials(k): mask_credentials(v) for k, v in config.mirrors}
    return out


def _sources(config: Config) -> list[str]:
    """Every place values came from, lowest precedence first."""
    found = ["defaults"]
    if config.source != "defaults":
        found.append(config.source)
    origins = {part for _, origin in config.origins for part in origin.split(" + ")}
    found += [name for name in ENV_SETTINGS if name in origins]
    return found
