"""The code's shape, checked: SQL only in storage, no import cycles, a fast CLI start."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import grimp

PACKAGE = Path(__file__).resolve().parents[2] / "monitor"
SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b|\bCREATE\s+(TABLE|INDEX|VIRTUAL)\b|\bPRAGMA\s+\w+|\bBEGIN\s+IMMEDIATE\b"
    r"|\bSAVEPOINT\b|\bROLLBACK\b|\bCOMMIT\b",
    re.S,
)


def _outside_storage() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "storage" not in p.relative_to(PACKAGE).parts]


def test_no_sql_outside_the_storage_package() -> None:
    offences = []
    for path in _outside_storage():
        source = path.read_text(encoding="utf-8")
        if re.search(r"\bexecute(many|script)?\(|\.conn\b", source):
            offences.append(f"{path}: talks to the database connection")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and SQL.search(token.string):
                offences.append(f"{path}:{token.start[0]}: SQL string {token.string[:60]!r}")
    assert offences == []


def test_the_sql_check_would_see_sql() -> None:
    assert SQL.search('"UPDATE articles SET x = 1"')
    assert SQL.search('"SELECT id FROM articles"')
    assert not SQL.search('"written in one UPDATE."')


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("monitor")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} <-> {imported}")
    assert cycles == []


def test_the_cli_starts_without_the_heavy_libraries() -> None:
    code = (
        "import sys, monitor.cli; "
        "heavy = [m for m in ('httpx', 'aiohttp', 'selectolax', 'apprise', 'sqlite_utils', "
        "'diff_match_patch') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
