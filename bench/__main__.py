"""`python -m bench`: measure article-monitor and print a table (and write JSON).

Sections: throughput (against bare GET loops), storage, diffs, scale (RSS of the daemon
with many articles, CLI wall times on a big database). See README "Benchmarks".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Any

from bench import site as site_mod
from bench.report import Table

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--pages", type=int, default=1000, help="pages per throughput run")
    parser.add_argument("--scale", type=int, default=100_000, help="articles for the scale runs")
    parser.add_argument(
        "--versions",
        type=int,
        default=1_000_000,
        help="versions in the big database for history/diff timing",
    )
    parser.add_argument("--only", nargs="*", default=["throughput", "storage", "diffs", "scale"])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved throughput rounds")
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    work = OUT / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    table = Table()
    results: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M")}
    if {"throughput", "storage", "scale"} & set(args.only):
        site, snaps = work / "site", work / "snapshots"
        bases = site_mod.write_site(site, snaps, max(args.pages, 1))
        nginx = site_mod.Nginx(work, site, args.port).start()
        try:
            from bench import sections

            if "throughput" in args.only or "storage" in args.only:
                results["throughput"] = sections.throughput(
                    table, nginx, site, snaps, bases, args.pages, work, args.rounds
                )
            if "storage" in args.only:
                results["storage"] = sections.storage(table, work, snaps, args.pages)
            if "scale" in args.only:
                results["scale"] = sections.scale(table, nginx, work, args.scale, args.versions)
        finally:
            nginx.stop()
    if "diffs" in args.only:
        from bench import sections

        results["diffs"] = sections.diffs(table)
    print(table.render(results["machine"]))
    (OUT / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nJSON: {OUT / 'results.json'}")


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "processor": platform.processor() or platform.machine(),
    }


if __name__ == "__main__":
    main()
