"""A plain-HTTP site on 127.0.0.1 and the settings to watch it directly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.server import PageServer, page_server
from support.sites import SETTINGS


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(SETTINGS)
    return path


@pytest.fixture
def site(
    state_dir: Path, settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PageServer]:
    monkeypatch.setenv("MONITOR_CONFIG", str(settings_file))
    with page_server() as server:
        yield server
