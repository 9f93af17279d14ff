"""The benchmark's sections; each adds rows to the table and returns its figures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

from bench import throughput as tp
from bench.report import Table, verdict
from bench.site import Nginx, wrk_capacity
from bench.storage import compressed_texts, database_bytes
from monitor.article import Article
from monitor.config import Config, FetchSettings
from monitor.extraction.parser_pool import ParserPool
from monitor.history.importing import import_paths
from monitor.snapshot import Snapshot
from monitor.storage.database import Store


def throughput(
    table: Table,
    nginx: Nginx,
    site: Path,
    snaps: Path,
    bases: list[tuple[Snapshot, Article]],
    pages: int,
    work: Path,
    reps: int = 3,
) -> dict[str, Any]:
    table.section(
        f"check throughput: {pages} pages of ~118 KB on 127.0.0.1, concurrency "
        f"{tp.CONCURRENCY}; per-host politeness off (one host); median of {reps} "
        "interleaved rounds, each ratio against the baselines of its own round"
    )
    capacity = wrk_capacity(f"{nginx.base}varying/article-0/")
    table.add(
        "nginx capacity (wrk, 10 connections)",
        f"{capacity:,.0f} req/s" if capacity else "wrk not installed",
    )
    rounds: list[list[tp.Run]] = []
    stores = {t: Store.open(work / f"state-{t}") for t in ("aiohttp", "httpx")}
    hard_stores = {t: Store.open(work / f"state-{t}-hard") for t in ("aiohttp", "httpx")}
    for store in (*stores.values(), *hard_stores.values()):
        import_paths(store, [snaps])
    # Like the daemon, one pool of parser processes for the whole run.
    parser = ParserPool(workers) if (workers := Config().check.parse_workers) else None
    for transport, store in hard_stores.items():  # their first checks, untimed
        tp.check_all(store, tp.config_for(nginx.base, "hard", transport), parser)
    for _ in range(reps):
        runs = tp.baselines(nginx.base, pages)
        for transport, store in stores.items():
            runs += tp.monitor_runs(
                store,
                nginx.base,
                site,
                bases,
                pages,
                transport,
                0.1,
                parser,
                hard_stores[transport],
            )
            _restore_site(site, bases, pages)  # the next runs start from unedited pages
        rounds.append(runs)
    if parser is not None:
        parser.close()
    for store in (*stores.values(), *hard_stores.values()):
        store.close()
    out: dict[str, Any] = {"nginx_rps": capacity, "rounds": reps, "runs": []}
    for name in [r.name for r in rounds[0]]:
        same = [next(r for r in runs if r.name == name) for runs in rounds]
        ratios = [_ratios(next(r for r in runs if r.name == name), runs) for runs in rounds]
        _report_run(table, same, ratios)
        out["runs"].append(_run_dict(same, ratios))
    out["peers"] = _peers(table, nginx, work, pages, rounds)
    return out


def _peers(
    table: Table, nginx: Nginx, work: Path, pages: int, rounds: list[list[tp.Run]]
) -> list[dict[str, Any]]:
    """The peers on the same pages, after the rounds, each beside the monitor's median
    on the same kind of pages: urlwatch on both kinds, changedetection.io (slow) on 200
    hard pages."""
    from bench.peers import changedetection_run, changedetection_venv, peer_venv, urlwatch_run

    found = []
    venv = peer_venv(work.parent)
    if venv is None:
        table.add("peer: urlwatch", "not installed (no package index?)")
    else:
        for mode in ("varying", "hard"):
            peer = urlwatch_run(venv, work, nginx.base, mode, pages)
            found.append(_peer_row(table, peer, rounds, mode, 10, "urlwatch"))
    venv = changedetection_venv(work.parent)
    if venv is None:
        table.add("peer: changedetection.io", "not installed (no package index?)")
    else:
        peer = changedetection_run(venv, work, nginx.base, "hard", min(pages, 200))
        found.append(_peer_row(table, peer, rounds, "hard", 50, "changedetection.io"))
    return found


def _peer_row(
    table: Table, peer: tp.Run, rounds: list[list[tp.Run]], mode: str, target: int, name: str
) -> dict[str, Any]:
    ours = "hard pages" if mode == "hard" else "unchanged, varying bytes"
    monitor = median(
        next(
            r for r in runs if r.name.startswith("monitor [aiohttp]") and ours in r.name
        ).per_second
        for runs in rounds
    )
    ratio = monitor / peer.per_second
    table.add(
        peer.name,
        f"{peer.per_second:,.1f} checks/s",
        f"the monitor: {ratio:.1f}x; {name} reported {peer.outcomes.get('changed', 0)} of "
        f"{peer.pages} unchanged pages as changed",
        verdict(ratio >= target, f">={target}x {name}"),
    )
    return {**_run_dict([peer], [(0.0, 0.0)]), "monitor_ratio": ratio}


def _restore_site(site: Path, bases: list[tuple[Snapshot, Article]], pages: int) -> None:
    import random

    from bench.site import variant, write_page

    rng = random.Random(0)
    for i in range(pages):
        write_page(site, i, variant(bases, i), rng)


def _ratios(run: tp.Run, same_round: list[tp.Run]) -> tuple[float, float]:
    httpx_rate, aiohttp_rate = (
        next(r for r in same_round if r.name == name).per_second
        for name in (tp.HTTPX_LOOP, tp.AIOHTTP_LOOP)
    )
    return run.per_second / httpx_rate, run.per_second / aiohttp_rate


def _report_run(table: Table, runs: list[tp.Run], ratios: list[tuple[float, float]]) -> None:
    run = runs[0]
    rate = median(r.per_second for r in runs)
    cpu = median(r.cpu_per_1000 for r in runs)
    ratio_httpx = median(r[0] for r in ratios)
    ratio_aiohttp = median(r[1] for r in ratios)
    spread = f"{min(r[1] for r in ratios):.2f}-{max(r[1] for r in ratios):.2f}"
    unit = "pages/s" if run.name.startswith("bare") else "checks/s"
    target = ""
    default = run.name.startswith(f"monitor [{FetchSettings().transport}]")  # targets are for it
    if default and "varying" in run.name:
        target = verdict(ratio_httpx >= 2 and ratio_aiohttp >= 0.3, ">=2x httpx, >=0.3x aiohttp")
    elif default and "hard pages" in run.name:
        target = verdict(ratio_httpx >= 3 and ratio_aiohttp >= 0.3, ">=3x httpx, >=0.3x aiohttp")
    elif default and "304" in run.name:
        target = verdict(ratio_aiohttp >= 0.5, ">=0.5x aiohttp")
    table.add(
        run.name,
        f"{rate:,.0f} {unit}",
        f"{ratio_httpx:.2f}x httpx, {ratio_aiohttp:.2f}x aiohttp ({spread}), {cpu:.2f} CPU s/1000",
        target,
    )
    if run.name.startswith("bare"):
        return
    outcomes: Counter[str] = Counter()
    for each in runs:
        outcomes.update(each.outcomes)
    false_changes = sum(v for k, v in outcomes.items() if k.startswith(("changed", "new")))
    expected = outcomes.get("expected changed", 0)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    wrong = false_changes != expected
    table.add(
        f"    outcomes over {len(runs)} rounds",
        summary,
        "",
        "FALSE CHANGES" if wrong else "no false changes",
    )


def _run_dict(runs: list[tp.Run], ratios: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "name": runs[0].name,
        "pages": runs[0].pages,
        "per_second": [round(r.per_second, 1) for r in runs],
        "cpu_per_1000": [round(r.cpu_per_1000, 3) for r in runs],
        "ratio_httpx": [round(r[0], 3) for r in ratios],
        "ratio_aiohttp": [round(r[1], 3) for r in ratios],
        "outcomes": [r.outcomes for r in runs],
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
    rows = store.conn.execute("SELECT id, url FROM articles").fetchall()
    with store.write():
        for n, row in enumerate(rows):
            store.add_observation(row["id"], 2_000_000_000_000 + n, "duplicate", None)
            store.conn.execute(
                "UPDATE articles SET last_check_at = ? WHERE id = ?",
                (2_000_000_000_000 + n, row["id"]),
            )
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
