"""The admin under real WSGI servers, on PostgreSQL (directly and through
PgBouncer) and MariaDB: a bounded mixed load per combination, and what it left
behind. Stock Flask-Admin over a raw ``scoped_session`` runs beside ours.

Run from the repository root (PostgreSQL, MariaDB, ``/usr/sbin/pgbouncer``)::

    python -m benchmarks.production              # the whole matrix, ~20 minutes
    python -m benchmarks.production --requests 200 --serving "waitress 8"

It prints a reStructuredText table and, with ``--write``, stores it in
``benchmarks/results/production.rst``, which the Reliability page includes.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from sqlalchemy import orm

from tests.server.production import Outcome
from tests.server.production import run
from tests.server.production import scale_out
from tests.server.production import Serving
from tests.server.production import SERVINGS
from tests.server.servers import MariaDB
from tests.server.servers import PostgreSQL
from tests.server.servers import Server
from tests.sqla.models import Person
from tests.sqla.models import Team

RESULTS = pathlib.Path(__file__).parent / "results" / "production.rst"

HEADER = (
    "server",
    "database",
    "admin",
    "requests",
    "req/s",
    "p50 ms",
    "p99 ms",
    "5xx",
    "no reply",
    "creates saved / rows",
    "idle in tx",
    "checked out",
    "PgBouncer waiting",
    "connections",
)


def _seed(server: Server) -> dict[str, int]:
    with orm.Session(server.control) as session:
        red, blue = Team(name="red"), Team(name="blue")
        alice = Person(name="alice", score=3, team=red)
        bob = Person(name="bob", score=1, team=blue)
        session.add_all([alice, bob])
        session.commit()
        return {"alice": alice.id, "bob": bob.id}


def row(outcome: Outcome) -> tuple[str, ...]:
    """The table row of one run."""
    load = outcome.load
    admin = "ours" if outcome.variant == "ours" else "stock + scoped_session"
    waiting = outcome.pgbouncer_waiting
    return (
        outcome.serving,
        outcome.database,
        admin,
        str(load.requests),
        f"{load.throughput:.0f}",
        f"{load.percentile(0.5):.0f}",
        f"{load.percentile(0.99):.0f}",
        str(load.server_errors),
        str(load.failures),
        f"{load.accepted['create']} / {outcome.rows_written}",
        str(outcome.idle_in_transaction),
        str(outcome.checked_out),
        "" if waiting is None else str(waiting),
        str(outcome.connections),
    )


def table(rows: list[tuple[str, ...]]) -> str:
    """A reStructuredText list table."""
    lines = [".. list-table::", "   :header-rows: 1", ""]

    for cells in [HEADER, *rows]:
        lines.append(f"   * - {cells[0]}")
        lines.extend(f"     - {cell}" for cell in cells[1:])

    return "\n".join(lines) + "\n"


def _plan(
    servings: list[Serving], variants: list[str], scale: bool
) -> list[tuple[str, Serving, str, bool]]:
    plan = [
        (database, serving, variant, database == "pgbouncer")
        for database in ("postgresql", "pgbouncer", "mariadb")
        for serving in servings
        for variant in variants
    ]

    if scale:
        plan += [
            (database, scale_out(workers), "ours", database == "pgbouncer")
            for database in ("postgresql", "pgbouncer")
            for workers in (1, 2, 4)
        ]

    return plan


def main(argv: list[str]) -> None:
    """Run the matrix and print (or write) the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.production")
    parser.add_argument("--serving", action="append", choices=SERVINGS)
    parser.add_argument("--variant", action="append", choices=("ours", "stock"))
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-scale-out", action="store_true")
    parser.add_argument("--write", action="store_true", help=f"to {RESULTS}")
    args = parser.parse_args(argv)
    servings = [SERVINGS[name] for name in args.serving or SERVINGS]
    plan = _plan(servings, args.variant or ["ours", "stock"], not args.no_scale_out)
    servers = {"postgresql": PostgreSQL.connect(), "mariadb": MariaDB.connect()}
    rows = []

    try:
        ids = {name: _seed(server) for name, server in servers.items()}

        for database, serving, variant, pgbouncer in plan:
            name = "postgresql" if database == "pgbouncer" else database
            outcome = run(
                servers[name],
                ids[name],
                serving,
                variant=variant,
                pgbouncer=pgbouncer,
                clients=args.clients,
                requests=args.requests,
                seconds=args.seconds,
            )
            rows.append(row(outcome))
            print(" | ".join(rows[-1]), flush=True)
            # A stock run leaves transactions open: end them before the next.
            for backend in servers[name].connections():
                servers[name].kill(backend)
    finally:
        for server in servers.values():
            server.drop()

    text = table(rows)
    print(text)

    if args.write:
        RESULTS.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
