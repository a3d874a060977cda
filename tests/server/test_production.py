"""The admin under gunicorn (sync, gthread, gevent) and waitress, on PostgreSQL,
through PgBouncer and on MariaDB: a short mixed load leaves no error, every
accepted create is a row, and nothing is left in a transaction or checked out.
The whole matrix, with 1, 2 and 4 sync workers, is
``python -m benchmarks.production``."""

from __future__ import annotations

import os

import pytest

from tests.server.production import PGBOUNCER
from tests.server.production import run
from tests.server.production import SERVINGS
from tests.server.servers import Server
from tests.servers import skip_or_fail

pytestmark = pytest.mark.server

REQUESTS = 40
"""Five requests of each client, a create and an edit among them; no warm-up,
the figures are not kept."""


@pytest.fixture
def pgbouncer(server: Server) -> None:
    """PgBouncer is installed, and the server is PostgreSQL."""
    if server.name != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL connections only.")

    if not os.access(PGBOUNCER, os.X_OK):
        skip_or_fail(
            PGBOUNCER, "PgBouncer is not installed ('apt-get install pgbouncer')"
        )


@pytest.mark.parametrize("serving", sorted(SERVINGS))
def test_serves_a_mixed_load_cleanly(
    database: Server, seeded: dict[str, int], serving: str
) -> None:
    """Each server leaves no 5xx, no transaction open and nothing checked out."""
    outcome = run(database, seeded, SERVINGS[serving], requests=REQUESTS, warm_up=0)
    assert outcome.load.requests == REQUESTS
    assert outcome.load.accepted["create"] > 0
    assert outcome.clean, str(outcome)


@pytest.mark.parametrize("serving", sorted(SERVINGS))
def test_through_pgbouncer_in_transaction_pooling(
    pgbouncer: None, database: Server, seeded: dict[str, int], serving: str
) -> None:
    """Through PgBouncer the same holds, and no client waits for a server
    connection once the load is over."""
    outcome = run(
        database,
        seeded,
        SERVINGS[serving],
        pgbouncer=True,
        requests=REQUESTS,
        warm_up=0,
    )
    assert outcome.pgbouncer_waiting == 0
    assert outcome.clean, str(outcome)


def test_stock_scoped_session_pins_pgbouncer_connections(
    pgbouncer: None, database: Server, seeded: dict[str, int]
) -> None:
    """The control: stock Flask-Admin over a raw ``scoped_session`` leaves its
    threads' transactions open after the same load, each pinning a PgBouncer
    server connection, and its pools never drained."""
    outcome = run(
        database,
        seeded,
        SERVINGS["gunicorn gthread 2x8"],
        variant="stock",
        pgbouncer=True,
        requests=REQUESTS,
        warm_up=0,
        seconds=30,
    )
    assert outcome.idle_in_transaction > 0
    assert outcome.checked_out > 0
    assert not outcome.clean


def test_lite_async_teardown_under_gevent(
    database: Server, seeded: dict[str, int]
) -> None:
    """Under gunicorn's gevent worker, Flask-SQLAlchemy-Lite's async teardown
    fails and its sessions leak; on ``GeventFlask`` nothing fails or leaks."""
    if database.name != "postgresql":
        pytest.skip("One database shows it; the failure is Flask's and asgiref's.")

    gevent = SERVINGS["gunicorn gevent 2"]
    broken = run(
        database,
        seeded,
        gevent,
        variant="lite",
        requests=REQUESTS,
        warm_up=0,
        seconds=20,
    )
    fixed = run(
        database, seeded, gevent, variant="lite-fixed", requests=REQUESTS, warm_up=0
    )
    assert broken.load.server_errors > 0
    assert broken.checked_out > 0
    assert fixed.clean, str(fixed)
