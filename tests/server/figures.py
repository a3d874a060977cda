"""The figures a run of the server tests measured: printed at the end of the run
as "Reliability figures", and written as reStructuredText for the docs when
``SQLA_LITE_FIGURES`` names a file (see ``doc/reliability.rst``)."""

from __future__ import annotations

import collections
import dataclasses
import importlib.metadata
import os
import platform

FIGURES_FILE_VARIABLE = "SQLA_LITE_FIGURES"
"""The environment variable naming the file to write the figures to."""

REQUESTS: collections.Counter[str] = collections.Counter()
"""Admin requests served, by server."""

CHECKS: collections.Counter[str] = collections.Counter()
"""Leak checks passed (pool drained, checkouts == checkins, nothing idle in a
transaction), by server."""

OUTCOMES: collections.Counter[tuple[str, str, str]] = collections.Counter()
"""How often each fault scenario ended each way, by (scenario, server, result)."""

SERVER_VERSIONS: dict[str, str] = {}
"""The version each server reported, by server."""


@dataclasses.dataclass
class Table:
    """Rows of one kind of measurement."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]] = dataclasses.field(default_factory=list)

    def add(self, *cells: object) -> None:
        """Add a row; ``cells`` follow :attr:`header`."""
        assert len(cells) == len(self.header)
        self.rows.append(tuple(map(str, cells)))


CONCURRENCY = Table(
    "Concurrency",
    (
        "server",
        "source",
        "threads x rounds",
        "sessions handed out",
        "seconds",
        "errors",
        "exceptions",
        "most requests in flight",
        "most connections checked out / pool",
        "sessions shared in flight",
    ),
)

LEAKS = Table(
    "Leaks",
    (
        "server",
        "view",
        "source",
        "requests",
        "checked out after",
        "live Sessions after - before",
        "traced requests",
        "tracemalloc growth (bytes)",
        "bytes a request",
    ),
)

LOST_UPDATES = Table(
    "Lost updates",
    (
        "server",
        "model",
        "threads x saves",
        "saves accepted",
        "saves refused with the message",
        "final counter",
        "lost updates",
    ),
)


def outcome(scenario: str, server: str, result: str) -> None:
    """Count one run of ``scenario`` on ``server`` that ended with ``result``."""
    OUTCOMES[scenario, server, result] += 1


def _tables() -> list[Table]:
    totals = Table(
        "Requests and leak checks",
        ("server", "version", "admin requests", "leak checks passed"),
    )

    for server in sorted(REQUESTS):
        totals.add(
            server, SERVER_VERSIONS.get(server, "?"), REQUESTS[server], CHECKS[server]
        )

    faults = Table("Faults", ("scenario", "server", "statuses", "runs"))

    for (scenario, server, result), runs in sorted(OUTCOMES.items()):
        faults.add(scenario, server, result, runs)

    return [
        table
        for table in (totals, CONCURRENCY, LEAKS, LOST_UPDATES, faults)
        if table.rows
    ]


def summary() -> list[str]:
    """The figures as plain text, one line a row."""
    lines = []

    for table in _tables():
        lines.append(f"{table.title}:")
        lines.extend(
            "  "
            + ", ".join(
                f"{name} {cell}" for name, cell in zip(table.header, row, strict=True)
            )
            for row in table.rows
        )

    return lines


def _versions() -> str:
    packages = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in (
            "flask-admin",
            "SQLAlchemy",
            "Flask-SQLAlchemy",
            "Flask-SQLAlchemy-Lite",
            "psycopg",
            "PyMySQL",
        )
    )
    return f"Python {platform.python_version()}, {packages}"


def render() -> str:
    """The figures as reStructuredText list tables."""
    out = [
        f"Measured with {_versions()}, on {os.cpu_count()} CPUs.",
        "",
    ]

    for table in _tables():
        out += [
            f".. list-table:: {table.title}",
            "   :header-rows: 1",
            "",
        ]

        for row in (table.header, *table.rows):
            out.append(f"   * - {row[0]}")
            out.extend(f"     - {cell}" for cell in row[1:])

        out.append("")

    return "\n".join(out)


def write_if_asked() -> str | None:
    """Write :func:`render` to the file named by ``SQLA_LITE_FIGURES``, if set;
    return its name."""
    path = os.environ.get(FIGURES_FILE_VARIABLE)

    if not path or not _tables():
        return None

    with open(path, "w", encoding="utf-8") as file:
        file.write(render())

    return path
