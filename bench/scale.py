"""Scale: CLI wall time on a big database, and the daemon's memory with many articles."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import Table, verdict
from bench.site import CANONICAL_PREFIX, Nginx, base_articles, url_of, variant
from monitor.storage.compression import pack
from monitor.storage.database import Store

DISTINCT = 100  # distinct article bodies the big database reuses
T0 = 1_700_000_000_000
HOUR = 3_600_000


def build_big_db(state: Path, articles: int, versions: int) -> Store:
    """articles x (versions / articles) versions, written with bulk SQL."""
    per_article = max(2, versions // articles)
    store = Store.open(state)
    bases = base_articles()
    blob = {}
    with store.write():
        for k in range(DISTINCT):
            for j in range(per_article):
                edit = 0 if j == per_article - 1 else j + 1
                model = variant(bases, k, edit=edit)
                data = model.to_json().encode()
                digest = f"bench-{k}-{j}"
                store.conn.execute(
                    "INSERT OR IGNORE INTO blobs VALUES (?, ?, ?)",
                    (digest, len(data), pack(data)),
                )
                blob[k, j] = (digest, model.fingerprint(), model.title, model.pudate)
        store.conn.executemany(
            "INSERT INTO articles (id, url, host, title, added_at, latest_ts, last_change_ts, "
            "versions_count, next_check_at) VALUES (?, ?, 'cn.nytimes.com', ?, ?, ?, ?, ?, 0)",
            (
                (
                    i + 1,
                    url_of(i),
                    blob[i % DISTINCT, per_article - 1][2],
                    T0,
                    T0 + (per_article - 1) * HOUR,
                    T0 + (per_article - 1) * HOUR,
                    per_article,
                )
                for i in range(articles)
            ),
        )
        store.conn.executemany(
            "INSERT INTO versions (article_id, ts, title, pudate, fingerprint, article_blob, "
            "source) VALUES (?, ?, ?, ?, ?, ?, 'fetch')",
            (
                (
                    i + 1,
                    T0 + j * HOUR,
                    blob[i % DISTINCT, j][2],
                    blob[i % DISTINCT, j][3],
                    blob[i % DISTINCT, j][1],
                    blob[i % DISTINCT, j][0],
                )
                for i in range(articles)
                for j in range(per_article)
            ),
        )
        store.conn.executemany(
            "INSERT INTO changes (article_id, to_ts, from_ts, kinds, chars_added, chars_removed) "
            "VALUES (?, ?, ?, ?, 20, 0)",
            (
                (
                    i + 1,
                    T0 + j * HOUR,
                    T0 + (j - 1) * HOUR if j else None,
                    '["first"]' if j == 0 else '["body"]',
                )
                for i in range(articles)
                for j in range(per_article)
            ),
        )
    return store


def link_site(site: Path, articles: int) -> None:
    """article-i for every i, each a link to the page of article i % DISTINCT (in the
    best-case site and the hard one)."""
    import shutil

    for folder in (site, site.parent / f"{site.name}-hard"):
        for i in range(DISTINCT, articles):
            link = folder / f"article-{i}"
            if link.is_symlink():
                continue
            if link.exists():
                shutil.rmtree(link)
            link.symlink_to(folder / f"article-{i % DISTINCT}", target_is_directory=True)


def cli_wall(state: Path, *args: str, runs: int = 7) -> list[float]:
    times = []
    command = [sys.executable, "-m", "monitor", "--state-dir", str(state), *args]
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        times.append((time.perf_counter() - start) * 1000)
    return times


def peak_rss(
    state: Path, work: Path, nginx: Nginx, seconds: float, *command_args: str, mode: str = "hard"
) -> dict[str, Any]:
    """Peak memory of `monitor COMMAND...` (the daemon, or a `check --all` pass) over
    the big database, its pages served from `mode` (hard: bytes varying inside the
    article, the pages that defeat a byte-level fast path)."""
    config = work / "scale.toml"
    config.write_text(
        "[fetch]\nper_host_delay_s = 0\nper_host_concurrency = 10\nretries = 0\n"
        '[daemon]\ntick_seconds = 1.0\nbatch_size = 200\nspread_seconds = 0.0\nseeds = ""\n'
        'log_level = "warning"\n'
    )
    env = {
        **os.environ,
        "MONITOR_MIRRORS": f"{CANONICAL_PREFIX}={nginx.base}{mode}/",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    command = [
        sys.executable,
        "-m",
        "monitor",
        "--state-dir",
        str(state),
        "--config",
        str(config),
        *command_args,
    ]
    before = _count_checks(state)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    children: dict[int, int] = {}  # the parser workers (and multiprocessing's tracker)
    pss = 0  # what the process group really uses: shared pages counted once
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        peak = max(peak, _vm_hwm(proc.pid))
        group = [proc.pid, *_children(proc.pid)]
        for child in group[1:]:
            children[child] = max(children.get(child, 0), _vm_hwm(child))
        pss = max(pss, sum(_pss(pid) for pid in group))
        time.sleep(0.5)
    peak = max(peak, _vm_hwm(proc.pid))
    proc.terminate()
    proc.wait(timeout=60)
    return {
        "peak_rss_mb": (peak + sum(children.values())) / 1024,
        "main_rss_mb": peak / 1024,
        "children_rss_mb": [kb / 1024 for kb in children.values()],
        "group_pss_mb": pss / 1024,
        "checks": _count_checks(state) - before,
        "seconds": seconds,
    }


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(") ", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _vm_hwm(pid: int) -> int:
    return _proc_kb(f"/proc/{pid}/status", "VmHWM:")


def _pss(pid: int) -> int:
    return _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _proc_kb(path: str, field: str) -> int:
    """A kB figure from a /proc file; 0 once the process is gone."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _count_checks(state: Path) -> int:
    store = Store.open(state, readonly=True)
    try:
        return int(store.conn.execute("SELECT count(*) FROM observations").fetchone()[0])
    finally:
        store.close()


def measure(table: Table, nginx: Nginx, work: Path, articles: int, versions: int) -> dict[str, Any]:
    table.section(f"scale: {articles:,} articles, {versions:,} versions")
    state = work / "state-big"
    start = time.perf_counter()
    store = build_big_db(state, articles, versions)
    store.close()
    built = time.perf_counter() - start
    size = sum(p.stat().st_size for p in state.iterdir())
    table.add("big database built", f"{built:.0f} s", f"{size / 1e6:,.0f} MB on disk")
    middle = str(articles // 2)
    out: dict[str, Any] = {}
    for name, args in (
        ("history", ("history", middle)),
        ("history --json", ("history", middle, "--json")),
        ("diff", ("diff", middle)),
        ("list --json (all articles)", ("list", "--json")),
    ):
        times = cli_wall(state, *args, runs=3 if name.startswith("list") else 7)
        median = statistics.median(times)
        target = verdict(max(times) < 300, "<300 ms") if not name.startswith("list") else ""
        table.add(
            f"monitor {name} (wall, incl. interpreter start)",
            f"median {median:.0f} ms, max {max(times):.0f} ms",
            "",
            target,
        )
        out[name] = {"median_ms": median, "max_ms": max(times)}
    startup = cli_wall(state, "--help")
    table.add(
        "monitor --help (interpreter start + CLI import)",
        f"median {statistics.median(startup):.0f} ms",
    )
    out["help_ms"] = statistics.median(startup)
    link_site(nginx.site, articles)
    for name, args in (("monitor run", ("run",)), ("monitor check --all", ("check", "--all"))):
        rss = peak_rss(state, work, nginx, 90, *args)
        table.add(
            f"{name}: peak RSS with {articles:,} articles (hard pages)",
            f"{rss['peak_rss_mb']:.0f} MB",
            f"main {rss['main_rss_mb']:.0f} MB + {len(rss['children_rss_mb'])} child processes "
            f"{sum(rss['children_rss_mb']):.0f} MB (sum of peak RSS; peak PSS of all "
            f"{rss['group_pss_mb']:.0f} MB); "
            f"{rss['checks']:,} checks in {rss['seconds']:.0f} s",
            verdict(rss["peak_rss_mb"] < 150, "<150 MB"),
        )
        out["daemon" if args == ("run",) else "check_all"] = rss
    out["db_bytes"] = size
    return out
