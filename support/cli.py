"""Running the `monitor` command line in-process."""

from __future__ import annotations

import os

from click.testing import CliRunner, Result

from monitor.cli import main


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args), catch_exceptions=False, env=dict(os.environ))
