"""Peers measured in the same run on the same pages: urlwatch (css `article` +
html2text, as its docs suggest for news pages). Installed into a separate venv under
bench/out/peers by the bench itself, never as a dependency of the project."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.throughput import Run

PEER_PACKAGES = ("urlwatch==2.29", "html2text", "lxml", "cssselect")


def peer_venv(out: Path) -> Path | None:
    """The peers' venv (made on first use); None when it cannot be installed."""
    venv = out / "peers"
    urlwatch = venv / "bin" / "urlwatch"
    if urlwatch.exists():
        return venv
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", *PEER_PACKAGES],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    return venv


def urlwatch_run(venv: Path, work: Path, base_url: str, mode: str, count: int) -> Run:
    """urlwatch over the same pages: one untimed run to fill its cache, then a timed
    run whose report says how many pages it considers changed."""
    folder = work / f"urlwatch-{mode}"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = "---\n".join(
        f'url: "{base_url}{mode}/article-{i}/"\nfilter:\n  - css: article\n  - html2text\n'
        for i in range(count)
    )
    (folder / "urls.yaml").write_text(jobs)
    command = [
        str(venv / "bin" / "urlwatch"),
        "--urls",
        str(folder / "urls.yaml"),
        "--config",
        str(folder / "config.yaml"),
        "--cache",
        str(folder / "cache.db"),
    ]
    (folder / "cache.db").unlink(missing_ok=True)
    subprocess.run(command, check=True, capture_output=True, timeout=1800)
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    changed = sum(line.startswith("CHANGED: ") for line in done.stdout.splitlines())
    run = Run(f"peer: urlwatch 2.29, {mode} pages", count, seconds, seconds)
    run.outcomes = {"changed": changed, "unchanged": count - changed}
    return run
