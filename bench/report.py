"""A plain-text table of figures with their baselines and targets."""

from __future__ import annotations

from typing import Any


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def section(self, title: str) -> None:
        self.rows.append((f"== {title}", "", "", ""))

    def add(self, name: str, value: str, against: str = "", verdict: str = "") -> None:
        self.rows.append((name, value, against, verdict))

    def render(self, machine: dict[str, Any]) -> str:
        widths = [max(len(r[i]) for r in self.rows) if self.rows else 0 for i in range(4)]
        lines = [f"machine: {machine}"]
        for row in self.rows:
            if row[0].startswith("== "):
                lines.append("")
                lines.append(row[0])
                continue
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        return "\n".join(lines)


def verdict(ok: bool, target: str) -> str:
    return f"{'ok  ' if ok else 'MISS'} target {target}"
