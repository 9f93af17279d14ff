from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.corpus import ROOT

UNIT = ROOT / "systemd" / "article-monitor.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None and not os.environ.get("CI"), reason="systemd-analyze not installed"
)


def _installed_copy(tmp_path: Path) -> Path:
    """The unit as shipped, but with ExecStart pointing at this install's `monitor`
    (verify insists that the binary exists)."""
    monitor = Path(sys.executable).parent / "monitor"
    assert monitor.exists(), "the package is not installed in this environment"
    text = UNIT.read_text().replace("/opt/article-monitor/.venv/bin/monitor", str(monitor))
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    return copy


@needs_analyze
def test_unit_verifies(tmp_path: Path) -> None:
    assert ANALYZE is not None, "CI must install systemd (systemd-analyze)"
    result = subprocess.run(
        [ANALYZE, "verify", str(_installed_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert UNIT.name not in result.stderr, result.stderr


@needs_analyze
def test_unit_is_hardened(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "security", "--offline=yes", str(_installed_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0


def test_unit_declares_what_the_daemon_relies_on() -> None:
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "StateDirectory=",
        "User=article-monitor",
        "Group=article-monitor",
        "ProtectSystem=strict",
    ):
        assert line in text
    assert "DynamicUser=" not in text
