"""Settings: the config file, environment overrides, the example file, secrets masked."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.config import Config, load
from monitor.masking import mask_url
from support.cli import run
from support.corpus import ROOT

SECRET_URL = "json://alice:hunter2secret@127.0.0.1:9/hook"


def test_config_masks_secrets_and_names_bad_keys(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[notify]\ntargets = ["{SECRET_URL}"]\n[daemon]\ntick_seconds = 5\n')
    shown = run(cli, "--config", str(config), "config")
    data = json.loads(shown.output)
    assert data["daemon"]["tick_seconds"] == 5.0
    assert "hunter2secret" not in shown.output and "****" in shown.output
    assert data["schedule"]["stop_after_days"] == 90.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[daemon]\ntick_secnds = 5\n")
    result = run(cli, "--config", str(bad), "config")
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {bad}: daemon.tick_secnds: unknown setting"
    bad.write_text('[fetch]\ntimeout_s = "soon"\n')
    assert "fetch.timeout_s: expected float" in run(cli, "--config", str(bad), "config").output


def test_mask_url_hides_passwords_and_unknown_schemes() -> None:
    assert "hunter2secret" not in mask_url(SECRET_URL)
    assert mask_url("nosuchservice://token@abc") == "nosuchservice://****"


def test_env_targets_add_to_file_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[notify]\ntargets = [{ url = "json://a/x", sites = ["cn.nytimes.com"] }]\n')
    monkeypatch.setenv("MONITOR_NOTIFY", "json://b/y json://c/z")
    config = load(path)
    assert [t.url for t in config.notify.targets] == ["json://a/x", "json://b/y", "json://c/z"]
    assert config.notify.targets[0].sites == ("cn.nytimes.com",)


def test_example_config_documents_every_setting_with_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("MONITOR_NOTIFY", "MONITOR_MIRRORS"):
        monkeypatch.delenv(var, raising=False)
    example = ROOT / "monitor.example.toml"
    loaded = load(example)
    assert replace(loaded, source="defaults") == Config()
    text = example.read_text()
    for section in ("fetch", "check", "schedule", "daemon", "notify"):
        for f in fields(getattr(Config(), section)):
            assert f"\n{f.name} = " in text, f"{section}.{f.name} is not documented"
