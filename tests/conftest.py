"""Fixtures shared by every test, and the Hypothesis profiles.

Helpers and constants live in the `support` package; import them from there.
Hypothesis runs the "quick" profile unless HYPOTHESIS_PROFILE names another ("ci").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

settings.register_profile("quick", max_examples=25, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "quick")


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    state = tmp_path / "state"
    monkeypatch.setenv("MONITOR_STATE_DIR", str(state))
    for var in ("MONITOR_CONFIG", "MONITOR_NOTIFY", "MONITOR_MIRRORS", "STATE_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    yield state


@pytest.fixture
def cli(state_dir: Path) -> CliRunner:
    return CliRunner()
