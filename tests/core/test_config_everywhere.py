"""Every command checks the config file; `monitor config` says where values came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.cli import run
from support.corpus import COMMITTED

BIDEN = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["status"],
        ["history", BIDEN],
        ["diff", BIDEN],
        ["show", BIDEN],
        ["export", "--all", "out"],
        ["outbox"],
    ],
)
def test_a_typo_in_the_config_file_stops_every_command(
    cli: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    assert run(cli, "import", str(COMMITTED)).exit_code == 0
    bad = tmp_path / "monitor.toml"
    bad.write_text("[daemon]\ntick_secnds = 5\n")
    result = run(cli, "--config", str(bad), *command)
    assert result.exit_code == 1, result.output
    assert result.output == f"error: {bad}: daemon.tick_secnds: unknown setting\n"


def test_a_typo_is_reported_before_a_missing_database(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "monitor.toml"
    bad.write_text("[fetch]\nconcurrencyy = 5\n")
    for command in ("list", "status"):
        result = run(cli, "--config", str(bad), command)
        assert result.exit_code == 1
        assert result.output == f"error: {bad}: fetch.concurrencyy: unknown setting\n"


def test_config_names_the_environment_as_a_source(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = json.loads(run(cli, "config").output)
    assert defaults["source"] == ["defaults"] and defaults["set_by"] == {}
    monkeypatch.setenv("MONITOR_NOTIFY", "json://127.0.0.1:9/hook")
    monkeypatch.setenv("MONITOR_MIRRORS", "https://cn.nytimes.com/=http://127.0.0.1:9/")
    env_only = json.loads(run(cli, "config").output)
    assert env_only["source"] == ["defaults", "MONITOR_MIRRORS", "MONITOR_NOTIFY"]
    assert env_only["set_by"] == {"mirrors": "MONITOR_MIRRORS", "notify.targets": "MONITOR_NOTIFY"}
    path = tmp_path / "monitor.toml"
    path.write_text('[daemon]\ntick_seconds = 5\n[notify]\ntargets = ["json://127.0.0.1:9/a"]\n')
    both = json.loads(run(cli, "--config", str(path), "config").output)
    assert both["source"] == ["defaults", str(path), "MONITOR_MIRRORS", "MONITOR_NOTIFY"]
    assert both["set_by"]["daemon.tick_seconds"] == str(path)
    assert both["set_by"]["notify.targets"] == f"{path} + MONITOR_NOTIFY"
    assert "daemon.batch_size" not in both["set_by"]  # left at its default
    assert len(both["notify"]["targets"]) == 2
