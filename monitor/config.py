"""Settings: defaults < config file (TOML) < environment < command-line flags."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.fetch import FetchSettings


@dataclass(frozen=True)
class Config:
    fetch: FetchSettings = field(default_factory=FetchSettings)
    # canonical URL prefix -> prefix to fetch it through (mirrors, proxies, test servers)
    mirrors: tuple[tuple[str, str], ...] = ()
    removal_confirmations: int = 2  # 404/410 seen this many checks in a row = removed
    shrink_ratio: float = 0.5  # a text this much shorter than the last is held as suspect

    def fetch_url(self, canonical_url: str) -> str:
        for prefix, target in self.mirrors:
            if canonical_url.startswith(prefix):
                return target + canonical_url[len(prefix) :]
        return canonical_url


def load(path: Path | None = None) -> Config:
    config = Config()
    file = path or _env_path()
    if file is not None:
        config = _apply_file(config, file)
    mirrors_env = os.environ.get("MONITOR_MIRRORS")
    if mirrors_env:
        config = replace(config, mirrors=parse_mirrors(mirrors_env, "MONITOR_MIRRORS"))
    return config


def _env_path() -> Path | None:
    value = os.environ.get("MONITOR_CONFIG")
    return Path(value) if value else None


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
        raise ConfigError(f"{path}: [mirrors] must map URL prefixes to URL prefixes")
    fetch_table = data.pop("fetch", {})
    config = replace(
        config,
        fetch=_typed(config.fetch, fetch_table, f"{path}: fetch"),
        mirrors=tuple(mirrors.items()),
    )
    check = data.pop("check", {})
    config = _typed(config, check, f"{path}: check")
    if data:
        raise ConfigError(f"{path}: unknown setting {next(iter(data))!r}")
    return config


def _typed(target: Any, table: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(target) if f.name not in ("fetch", "mirrors")}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown setting")
        expected = type(getattr(target, key))
        if expected is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(f"{where}.{key}: expected {expected.__name__}, got {value!r}")
        values[key] = value
    return replace(target, **values)
