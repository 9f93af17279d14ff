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
    """urlwatch's venv (made on first use); None when it cannot be installed."""
    return _venv(out / "peers", "urlwatch", PEER_PACKAGES)


def _venv(venv: Path, command: str, packages: tuple[str, ...]) -> Path | None:
    """A venv holding `packages` (made once); None when they cannot be installed."""
    if (venv / "bin" / command).exists():
        return venv
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", *packages],
            check=True,
            capture_output=True,
            timeout=900,
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


CHANGEDETECTION = "changedetection.io==0.60.10"


def changedetection_venv(out: Path) -> Path | None:
    return _venv(out / "peers-changedetection", "changedetection.io", (CHANGEDETECTION,))


def changedetection_run(venv: Path, work: Path, base_url: str, mode: str, count: int) -> Run:
    """changedetection.io as a user runs it (its server, watches added through its REST
    API, default settings): one untimed pass, then a timed `recheck_all`."""
    import json
    import os
    import shutil
    import socket
    import urllib.request

    data = work / f"changedetection-{mode}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ALLOW_IANA_RESTRICTED_ADDRESSES": "true"}
    log = (work / f"changedetection-{mode}.log").open("wb")
    command = [str(venv / "bin" / "changedetection.io"), "-d", str(data), "-p", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    api = f"http://127.0.0.1:{port}/api/v1"

    def call(method: str, path: str, body: bytes | None = None) -> object:
        token = json.loads((data / "changedetection.json").read_text())["settings"]["application"][
            "api_access_token"
        ]
        request = urllib.request.Request(
            api + path, data=body, method=method, headers={"x-api-key": token}
        )
        if body is not None:
            request.add_header("Content-Type", "text/plain")
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
        return json.loads(text) if text.strip().startswith(("{", "[")) else text

    def watches() -> dict[str, dict[str, object]]:
        found = call("GET", "/watch")
        assert isinstance(found, dict)
        return found

    def wait(condition: object, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not condition():  # type: ignore[operator]
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError(f"changedetection.io: timed out ({data})")
            time.sleep(0.5)

    try:
        wait(lambda: _answers(api, data), 120)
        for uuid in list(watches()):  # the example watches it starts with
            call("DELETE", f"/watch/{uuid}")
        urls = "\n".join(f"{base_url}{mode}/article-{i}/" for i in range(count))
        call("POST", "/import", urls.encode())
        wait(lambda: len(watches()) == count, 120)
        wait(lambda: all(w.get("last_checked") for w in watches().values()), 3600)
        start = time.time()
        call("GET", "/watch?recheck_all=1")
        wait(
            lambda: all(int(w.get("last_checked") or 0) >= int(start) for w in watches().values()),
            3600,
        )
        seconds = time.time() - start
        changed = sum(int(w.get("last_changed") or 0) >= int(start) for w in watches().values())
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    run = Run(f"peer: {CHANGEDETECTION}, {mode} pages", count, seconds, seconds)
    run.outcomes = {"changed": changed, "unchanged": count - changed}
    return run


def _answers(api: str, data: Path) -> bool:
    import urllib.error
    import urllib.request

    if not (data / "changedetection.json").exists():
        return False
    try:
        urllib.request.urlopen(api.rsplit("/api", 1)[0] + "/", timeout=5).close()
    except (urllib.error.URLError, OSError):
        return False
    return True
