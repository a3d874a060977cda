"""Many clients at once, through a real threaded server and a pool smaller than
the number of clients: every request gets its own session, nothing fails,
nothing deadlocks, and every row ends up written exactly once."""

from __future__ import annotations

import collections
import functools
import time
import urllib.parse

import pytest
import sqlalchemy as sa

from tests.server import figures
from tests.server.harness import Admins
from tests.server.servers import Server
from tests.server.serving import LiveServer
from tests.server.serving import run_together

pytestmark = pytest.mark.server

CLIENTS = 8
"""Client threads, each on rows of its own."""

ROUNDS = 50
"""Create -> edit -> list -> details rounds per client."""

POOL_SIZE = 3
"""Connections in the pool, fewer than the clients: requests queue for one."""

POOL_TIMEOUT = 10.0
"""Seconds a queued request may wait for a connection: a deadlock still fails
the run, a slow turn on a loaded machine does not."""


def edited_score(round_: int) -> int:
    """The score a row has after its edit."""
    return 1000 + round_


def run_client(server: LiveServer, client: int, rounds: int, errors: list[str]) -> None:
    """Create, edit, list and show this client's rows, recording what went wrong."""
    for round_ in range(rounds):
        name = f"c{client}r{round_}"
        created = server.post(
            "/admin/person/new/",
            {"name": name, "score": str(round_), "_continue_editing": "1"},
        )
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(created.location).query)

        if created.status != 302 or "id" not in query:
            errors.append(f"{name} create: {created.status} {created.location}")
            continue

        row = query["id"][0]
        steps = (
            (
                "edit",
                server.post(
                    f"/admin/person/edit/?id={row}",
                    {"name": name, "score": str(edited_score(round_))},
                ),
                302,
                "",
            ),
            ("list", server.get(f"/admin/person/?search={name}"), 200, name),
            (
                "details",
                server.get(f"/admin/person/details/?id={row}"),
                200,
                str(edited_score(round_)),
            ),
        )

        for step, reply, status, expected in steps:
            if reply.status != status or expected not in reply.body:
                errors.append(f"{name} {step}: {reply.status}")


def test_clients_in_parallel(admins: Admins, database: Server, source_id: str) -> None:
    """8 clients x 50 rounds, for every per-request source on each server: no
    error, in-flight sessions pairwise distinct, the pool never above its size
    while more requests than that are in flight."""
    admin = admins.build(source_id, pool_size=POOL_SIZE, pool_timeout=POOL_TIMEOUT)
    errors: list[str] = []

    with LiveServer(admin.app) as server:
        # One round first, so the clients do not all wait on template compilation.
        run_client(server, CLIENTS, 1, errors)
        started = time.perf_counter()
        run_together(
            functools.partial(run_client, server, client, ROUNDS, errors)
            for client in range(CLIENTS)
        )

    figures.CONCURRENCY.add(
        database.name,
        source_id,
        f"{CLIENTS} x {ROUNDS}",
        len(admin.log.sessions),
        f"{time.perf_counter() - started:.1f}",
        len(errors),
        len(admin.exceptions),
        admin.log.most_in_flight,
        f"{admin.pool.most_checked_out} / {POOL_SIZE}",
        admin.log.shared_in_flight,
    )
    assert errors == []
    assert admin.exceptions == []
    assert admin.log.shared_in_flight == 0
    assert admin.log.most_in_flight > POOL_SIZE
    assert admin.pool.most_checked_out == POOL_SIZE
    admin.assert_released()

    with database.control.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, score FROM person")).all()

    expected = [
        (f"c{client}r{round_}", edited_score(round_))
        for client in range(CLIENTS)
        for round_ in range(ROUNDS)
    ]
    assert collections.Counter(rows) == collections.Counter(
        [*expected, (f"c{CLIENTS}r0", edited_score(0))]
    )
