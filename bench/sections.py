"""The benchmark's sections; each adds rows to the table and returns its figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import throughput as tp
from bench.report import Table, verdict
from bench.site import Nginx, wrk_capacity
from bench.storage import compressed_texts, database_bytes
from monitor.article import Article
from monitor.importer import import_paths
from monitor.snapshot import Snapshot
from monitor.store import Store


def throughput(
    table: Table,
    nginx: Nginx,
    site: Path,
    snaps: Path,
    bases: list[tuple[Snapshot, Article]],
    pages: int,
    work: Path,
) -> dict[str, Any]:
    table.section(
        f"check throughput: {pages} pages of ~118 KB on 127.0.0.1, concurrency "
        f"{tp.CONCURRENCY}; per-host politeness off (one host)"
    )
    capacity = wrk_capacity(f"{nginx.base}varying/article-0/")
    table.add(
        "nginx capacity (wrk, 10 connections)",
        f"{capacity:,.0f} req/s" if capacity else "wrk not installed",
    )
    base_runs = tp.baselines(nginx.base, pages)
    httpx_rate, aiohttp_rate = (r.per_second for r in base_runs)
    out: dict[str, Any] = {"nginx_rps": capacity, "runs": []}
    for run in base_runs:
        table.add(run.name, f"{run.per_second:,.0f} pages/s", f"{run.cpu_per_1000:.2f} CPU s/1000")
        out["runs"].append(_run_dict(run))
    for transport in ("aiohttp", "httpx"):
        store = Store.open(work / f"state-{transport}")
        import_paths(store, [snaps])
        for run in tp.monitor_runs(store, nginx.base, site, bases, pages, transport, 0.1):
            _report_run(table, run, httpx_rate, aiohttp_rate)
            out["runs"].append(_run_dict(run))
        store.close()
        # Rewrite the edited pages back for the next transport's identical runs.
        import random

        from bench.site import variant, write_page

        rng = random.Random(0)
        for i in range(pages):
            write_page(site, i, variant(bases, i), rng)
    return out


def _report_run(table: Table, run: tp.Run, httpx_rate: float, aiohttp_rate: float) -> None:
    ratio_httpx, ratio_aiohttp = run.per_second / httpx_rate, run.per_second / aiohttp_rate
    false_changes = sum(v for k, v in run.outcomes.items() if k.startswith(("changed", "new")))
    expected = run.outcomes.get("expected changed", 0)
    target = ""
    if "varying" in run.name:
        target = verdict(ratio_httpx >= 2 and ratio_aiohttp >= 0.3, ">=2x httpx, >=0.3x aiohttp")
    elif "304" in run.name:
        target = verdict(ratio_aiohttp >= 0.5, ">=0.5x aiohttp")
    table.add(
        run.name,
        f"{run.per_second:,.0f} checks/s",
        f"{ratio_httpx:.2f}x httpx, {ratio_aiohttp:.2f}x aiohttp, "
        f"{run.cpu_per_1000:.2f} CPU s/1000",
        target,
    )
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(run.outcomes.items()))
    wrong = false_changes != expected
    table.add("    outcomes", summary, "", "FALSE CHANGES" if wrong else "no false changes")


def _run_dict(run: tp.Run) -> dict[str, Any]:
    return {
        "name": run.name,
        "pages": run.pages,
        "seconds": round(run.seconds, 3),
        "per_second": round(run.per_second, 1),
        "cpu_per_1000": round(run.cpu_per_1000, 3),
        "outcomes": run.outcomes,
    }


def storage(table: Table, work: Path, snaps: Path, pages: int) -> dict[str, Any]:
    table.section("storage")
    store = Store.open(work / "state-storage")
    import_paths(store, [snaps])
    imported = database_bytes(store)
    versions = store.conn.execute("SELECT count(*) FROM versions").fetchone()[0]
    raw, canonical = compressed_texts(snaps)
    per_version = imported / versions
    table.add(
        "database bytes per imported version",
        f"{per_version:,.0f} B",
        f"{imported / raw:.2f}x zlib-9 of the distinct snapshot texts ({raw / versions:,.0f} B)",
        verdict(imported / raw <= 1.2, "<=1.2x"),
    )
    before = database_bytes(store)
    from monitor.check import Target

    rows = store.conn.execute("SELECT id, url FROM articles").fetchall()
    with store.write():
        for n, row in enumerate(rows):
            store.add_observation(row["id"], 2_000_000_000_000 + n, "duplicate", None)
            store.conn.execute(
                "UPDATE articles SET last_check_at = ? WHERE id = ?",
                (2_000_000_000_000 + n, row["id"]),
            )
    del Target
    per_check = (database_bytes(store) - before) / len(rows)
    table.add(
        "database bytes per unchanged check",
        f"{per_check:,.0f} B",
        "",
        verdict(per_check < 100, "<100 B"),
    )
    store.close()
    return {
        "bytes_per_version": per_version,
        "zlib_distinct_per_version": raw / versions,
        "canonical_zlib_per_version": canonical / versions,
        "bytes_per_check": per_check,
        "ratio": imported / raw,
    }


def diffs(table: Table) -> dict[str, Any]:
    from bench.diffs import measure

    return measure(table)


def scale(table: Table, nginx: Nginx, work: Path, articles: int, versions: int) -> dict[str, Any]:
    from bench.scale import measure

    return measure(table, nginx, work, articles, versions)
