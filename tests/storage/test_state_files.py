"""The state directory and its files: any path opens its own database, new files are
not for every local user, and readers work on a stopped database they may only read."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.snapshot import read_file
from support.cli import run
from support.corpus import BIDEN_OLD, ROOT, SEEDS, YEN_OLD
from support.daemon import DaemonProcess, wait_for, write_config
from support.receivers import free_port

SEED_FILE = sorted(SEEDS.glob("*.txt"))[0]
SEED_SNAP, _ = read_file(SEED_FILE)
SEED_URL = SEED_SNAP.url
BIDEN_URL = read_file(BIDEN_OLD)[0].url


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _no_journal_files(state: Path) -> bool:
    return not any(Path(f"{state / 'monitor.db'}{s}").exists() for s in ("-wal", "-shm"))


# -- (a) any path: `#`, `?`, `%41`, `:` ------------------------------------------------


def _decoy_database(cli: CliRunner, tmp_path: Path) -> Path:
    """A database of two other articles, where a reader that put the state path into
    a file: URI unescaped would land (`#`/`?` end the path there, `%41` means `A`)."""
    decoy_state = tmp_path / "decoy-state"
    result = run(cli, "--state-dir", str(decoy_state), "import", str(BIDEN_OLD), str(YEN_OLD))
    assert result.exit_code == 0, result.output
    assert _no_journal_files(decoy_state)
    return decoy_state / "monitor.db"


@pytest.mark.parametrize(
    ("name", "decoy"),
    [
        ("db#fragment", "db"),
        ("db?mode=rwc", "db"),
        ("s%41t", "sAt/monitor.db"),
        ("state:dir", None),
        ("x#y?z%41:w", "x"),
    ],
)
def test_a_state_dir_with_uri_characters_reads_its_own_database(
    cli: CliRunner, tmp_path: Path, name: str, decoy: str | None
) -> None:
    base = tmp_path / "base"
    base.mkdir()
    if decoy is not None:
        target = base / decoy
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_decoy_database(cli, tmp_path), target)
    before = {p: p.read_bytes() for p in base.rglob("*") if p.is_file()}
    state = base / name

    imported = run(cli, "--state-dir", str(state), "import", str(SEEDS))
    assert imported.exit_code == 0, imported.output
    assert (state / "monitor.db").is_file()

    listed = run(cli, "--state-dir", str(state), "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [row["url"] for row in json.loads(listed.stdout)] == [SEED_URL]

    status = run(cli, "--state-dir", str(state), "status", "--json")
    assert json.loads(status.stdout)["articles"] == 1, status.output  # the decoy has 2

    history = run(cli, "--state-dir", str(state), "history", SEED_URL)
    assert history.exit_code == 0, history.output
    assert SEED_SNAP.title in history.stdout

    # The decoy was neither changed nor joined by files a reader created.
    after = {p: p.read_bytes() for p in base.rglob("*") if p.is_file() and state not in p.parents}
    assert after == before


def test_monitor_state_dir_is_taken_whole_and_only_systemd_splits(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = tmp_path / "with:colon"
    monkeypatch.setenv("MONITOR_STATE_DIR", str(whole))
    assert run(cli, "import", str(SEED_FILE)).exit_code == 0
    assert (whole / "monitor.db").is_file()
    assert not (tmp_path / "with").exists()
    listed = run(cli, "list", "--json")
    assert [row["url"] for row in json.loads(listed.stdout)] == [SEED_URL]

    # systemd's STATE_DIRECTORY lists several directories, ':'-separated: the first.
    monkeypatch.delenv("MONITOR_STATE_DIR")
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("STATE_DIRECTORY", f"{first}:{second}")
    assert run(cli, "import", str(BIDEN_OLD)).exit_code == 0
    assert (first / "monitor.db").is_file()
    assert not second.exists()


# -- (b) modes under umask 022 ----------------------------------------------------------


def _monitor(*args: str, **popen: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for var in ("MONITOR_STATE_DIR", "MONITOR_CONFIG", "MONITOR_MIRRORS", "MONITOR_NOTIFY"):
        env.pop(var, None)
    command = [sys.executable, "-m", "monitor", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, **popen)


@pytest.mark.slow
def test_new_state_files_are_not_world_readable_under_umask_022(tmp_path: Path) -> None:
    state = tmp_path / "fresh" / "state"
    imported = _monitor("--state-dir", str(state), "import", str(BIDEN_OLD), umask=0o022)
    assert imported.returncode == 0, imported.stderr
    assert _mode(state) == 0o750
    assert _mode(state / "monitor.db") == 0o640

    # A running daemon keeps the -wal and -shm files: the database's own mode.
    config = write_config(tmp_path / "monitor.toml", [])
    dead_mirror = f"https://cn.nytimes.com/=http://127.0.0.1:{free_port()}/"
    daemon = DaemonProcess(tmp_path, state, config, {"MONITOR_MIRRORS": dead_mirror})
    daemon.popen_extra = {"umask": 0o022}
    try:
        daemon.start()
        wal, shm = Path(f"{state / 'monitor.db'}-wal"), Path(f"{state / 'monitor.db'}-shm")
        wait_for(lambda: wal.exists() and shm.exists(), "the daemon's -wal and -shm files")
        assert _mode(wal) == 0o640
        assert _mode(shm) == 0o640
        assert _mode(state / "daemon.lock") == 0o640
        assert daemon.terminate() == 0, daemon.output()
    finally:
        daemon.stop_quietly()
    assert _mode(state) == 0o750 and _mode(state / "monitor.db") == 0o640


# -- (c) readers of a stopped database they may not write to ----------------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="monitor-readers-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in [path, *path.rglob("*")]:
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)  # a reader's read-only directory, removable again
        shutil.rmtree(path, ignore_errors=True)


def _site_paths() -> list[str]:
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([str(ROOT), paths["purelib"], paths["platlib"]]))


class Reader:
    """Runs the CLI as a user who may read the state directory but not write to it:
    `nobody` in the directory's group when the tests run as root (root ignores
    permissions), else the current user on a directory made read-only."""

    def __init__(self, python: str, user: pwd.struct_passwd | None, home: Path) -> None:
        self.python, self.user = python, user
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "PYTHONPATH": os.pathsep.join(_site_paths()),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.cwd = home

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        extra: dict[str, Any] = {}
        if self.user is not None:
            extra = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(
            [self.python, *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
            **extra,
        )

    def prepare(self, state: Path) -> None:
        """The documented deployment: the daemon's user owns the files, group members
        read them (0750 directory, 0640 database); here the reader is the group."""
        if self.user is not None:
            for path in (state, state / "monitor.db"):
                os.chown(path, 0, self.user.pw_gid)
            state.chmod(0o750)
        else:
            state.chmod(0o550)
        (state / "monitor.db").chmod(0o640)


def _reader(home: Path) -> Reader:
    if os.geteuid() != 0:
        return Reader(sys.executable, None, home)
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root and there is no user 'nobody' to read as")
    # /root is private, so the virtualenv's interpreter (a link into it) may not run as
    # nobody: use the first interpreter nobody can run that imports the CLI, of the
    # same version (the virtualenv's compiled packages are built for it).
    candidates = [
        sys.executable,
        os.path.realpath(sys.executable),
        getattr(sys, "_base_executable", ""),
        shutil.which(f"python{sys.version_info[0]}.{sys.version_info[1]}") or "",
        "/usr/bin/python3",
        "/usr/local/bin/python3",
    ]
    probe = (
        "import sys; import monitor.cli, monitor.storage.database, monitor.runner.status;"
        "print('%d.%d' % sys.version_info[:2])"
    )
    wanted = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for python in dict.fromkeys(c for c in candidates if c):
        reader = Reader(python, nobody, home)
        try:
            tried = reader.run("-c", probe)
        except OSError:
            continue
        if tried.returncode == 0 and tried.stdout.strip() == wanted:
            return reader
    pytest.skip(f"no Python {wanted} that user nobody can run imports the monitor")


@pytest.mark.slow
def test_readers_work_on_a_stopped_database_they_may_not_write_to(
    cli: CliRunner, shared_dir: Path
) -> None:
    reader = _reader(shared_dir)
    state = shared_dir / "state"
    imported = run(cli, "--state-dir", str(state), "import", str(SEEDS))
    assert imported.exit_code == 0, imported.output
    assert _no_journal_files(state)  # the writer closed: nothing left beside the file
    reader.prepare(state)

    # The scenario is real: the reader may read the database but create nothing there.
    probe = reader.run("-c", f"open({str(state / 'probe')!r}, 'w')")
    assert probe.returncode != 0 and "PermissionError" in probe.stderr
    readable = reader.run("-c", f"print(len(open({str(state / 'monitor.db')!r}, 'rb').read()))")
    assert readable.returncode == 0, readable.stderr

    listed = reader.run("-m", "monitor", "--state-dir", str(state), "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["url"] for row in json.loads(listed.stdout)] == [SEED_URL]

    text = reader.run("-m", "monitor", "--state-dir", str(state), "list")
    assert text.returncode == 0, text.stderr
    assert SEED_URL in text.stdout

    status = reader.run("-m", "monitor", "--state-dir", str(state), "status", "--json")
    assert status.returncode == 1, status.stderr  # unhealthy: no daemon runs
    assert "error" not in status.stderr
    report = json.loads(status.stdout)
    assert report["articles"] == 1 and report["running"] is False

    history = reader.run("-m", "monitor", "--state-dir", str(state), "history", SEED_URL)
    assert history.returncode == 0, history.stderr
    assert SEED_SNAP.title in history.stdout
    assert _no_journal_files(state)
    assert sorted(p.name for p in state.iterdir()) == ["monitor.db"]
