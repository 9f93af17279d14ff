"""`monitor status`: the daemon's health, for health checks."""

from __future__ import annotations

import json

from click.testing import CliRunner

from support.cli import run

BIDEN = "https://cn.nytimes.com/usa/20240701/biden-campaign-debate-scramble/"


def test_status_is_unhealthy_without_a_daemon(cli: CliRunner) -> None:
    run(cli, "add", BIDEN)
    result = run(cli, "status", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["running"] is False and report["due"] == 1 and report["articles"] == 1
