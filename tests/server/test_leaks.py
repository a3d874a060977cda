"""Thousands of admin requests leave no ``Session`` alive, nothing checked out, and
memory flat; stock Flask-Admin on Flask-SQLAlchemy is measured the same way in
the same run, as the reference."""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc

import pytest
from flask.testing import FlaskClient
from flask_admin.contrib.sqla.view import ModelView as StockModelView
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import ModelView
from tests.server import figures
from tests.server.harness import Admins
from tests.server.harness import ServerAdmin
from tests.server.servers import Server

pytestmark = pytest.mark.server

WARM_UP = 200
"""Requests before measuring: templates compiled, SQL compiled and cached."""

REQUESTS = 5000
"""Requests measured per view."""

TRACED = 600
"""The last requests of :data:`REQUESTS`, run under ``tracemalloc``. Tracing makes
a request about four times slower, so not all of them are traced; a leak
grows with every request, so it shows in any window."""

SETTLE = 100
"""Traced requests before the memory baseline is read, so objects that exist one
at a time, each request replacing the last one's, are in the baseline too."""

MEMORY_BOUND = 256 * 1024
"""Bytes that may stay allocated over the last ``TRACED - SETTLE`` (500)
requests, after a garbage collection: about 520 bytes a request.

What does stay is one-off: Flask's, Jinja's and SQLAlchemy's caches are bounded
and full after the warm-up, and what remains are interpreter tables resizing
(Flask-Admin creates a class on every CSV export; SQLAlchemy's pool registers a
``weakref.finalize`` on every checkout), steps of up to about 140 KiB seen in
some windows, never a slope. A request that leaks its closed ``Session``, with
the objects it loaded, leaves well over a kilobyte (see
:func:`test_bound_catches_a_leaked_session`), past the bound within 200
requests; one that leaks an open session holds a connection and exhausts the
pool within :data:`~tests.server.harness.Admins.build`'s pool of two."""


@dataclasses.dataclass
class Growth:
    """What the measured requests left behind."""

    checked_out: int
    """Connections checked out after the last request, read before any
    ``gc.collect()``, which would return a leaked connection to the pool."""

    sessions: int
    """Live ``Session`` objects after the requests minus before."""

    memory: int
    """Bytes allocated during the traced requests after the settling ones and
    still allocated after them, as ``tracemalloc`` counts them."""

    traced: int
    """Requests :attr:`memory` counts."""

    @property
    def memory_per_request(self) -> float:
        return self.memory / self.traced


def live_sessions() -> int:
    """``Session`` objects alive in the process."""
    return sum(isinstance(obj, orm.Session) for obj in gc.get_objects())


def drive(client: FlaskClient, ids: dict[str, int], count: int) -> None:
    """Send ``count`` requests: every read-only page, and an edit every eighth."""
    pages = (
        "/admin/person/",
        "/admin/person/?search=ali",
        f"/admin/person/details/?id={ids['alice']}",
        f"/admin/person/edit/?id={ids['alice']}",
        "/admin/person/ajax/lookup/?name=team&query=r",
        "/admin/person/export/csv/",
        "/admin/team/",
    )

    for number in range(count):
        if number % 8 == 7:
            response = client.post(
                f"/admin/person/edit/?id={ids['bob']}",
                data={"name": "bob", "score": str(number)},
            )
            assert response.status_code == 302
        else:
            assert client.get(pages[number % 8]).status_code == 200


def measure(
    admin: ServerAdmin,
    ids: dict[str, int],
    *,
    requests: int = REQUESTS,
    traced: int = TRACED,
    settle: int = SETTLE,
) -> Growth:
    """Warm the admin up, then send ``requests`` requests, tracing the memory of
    the last ``traced`` after the first ``settle`` of those."""
    client = admin.client()
    drive(client, ids, WARM_UP)
    gc.collect()
    sessions = live_sessions()
    drive(client, ids, requests - traced)
    tracemalloc.start()

    try:
        drive(client, ids, settle)
        gc.collect()
        baseline = tracemalloc.get_traced_memory()[0]
        drive(client, ids, traced - settle)
        checked_out = admin.pool.checked_out()
        gc.collect()
        memory = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()

    return Growth(
        checked_out=checked_out,
        sessions=live_sessions() - sessions,
        memory=memory,
        traced=traced - settle,
    )


@pytest.mark.parametrize(
    ("server", "source", "view"),
    (
        ("mariadb", "sessionmaker", "ours"),
        ("postgresql", "fsa-db", "ours"),
        ("postgresql", "fsa-db", "stock"),
    ),
    indirect=["server"],
)
def test_requests_leave_nothing_behind(
    admins: Admins, database: Server, seeded: dict[str, int], source: str, view: str
) -> None:
    """Over 5,000 requests no ``Session`` stays alive, nothing stays checked out,
    and memory stays within the bound; the stock reference is held to the same.

    ``sessionmaker``: the sessions are the view's own, created and closed by it.
    ``fsa-db``: Flask-SQLAlchemy's, as stock Flask-Admin uses them."""
    view_base = StockModelView if view == "stock" else None
    admin = admins.build(source, record=False, view_base=view_base)
    growth = measure(admin, seeded)
    figures.LEAKS.add(
        database.name,
        view,
        source,
        REQUESTS,
        growth.checked_out,
        f"{growth.sessions:+d}",
        growth.traced,
        f"{growth.memory:+,d}",
        f"{growth.memory_per_request:+.0f}",
    )
    assert growth.checked_out == 0
    assert growth.sessions <= 0
    assert growth.memory < MEMORY_BOUND
    admin.assert_released()


@pytest.mark.parametrize("server", ("postgresql",), indirect=True)
def test_bound_catches_a_leaked_session(
    admins: Admins, database: Server, seeded: dict[str, int]
) -> None:
    """The control: a view that keeps every request's session alive after the
    view closed it grows live ``Session`` objects by one a request, and memory
    faster than the bound allows."""
    kept: list[orm.Session] = []

    class KeepsSessions(ModelView):
        def get_session(self) -> orm.Session:
            session: orm.Session = super().get_session()
            kept.append(session)
            return session

    admin = admins.build("sessionmaker", record=False, mixins=(KeepsSessions,))
    growth = measure(admin, seeded, requests=300, traced=250, settle=50)
    figures.LEAKS.add(
        database.name,
        "ours, keeping its sessions (control)",
        "sessionmaker",
        300,
        growth.checked_out,
        f"{growth.sessions:+d}",
        growth.traced,
        f"{growth.memory:+,d}",
        f"{growth.memory_per_request:+.0f}",
    )
    assert growth.sessions == 300
    assert growth.memory_per_request > MEMORY_BOUND / (TRACED - SETTLE)
    admin.assert_released()
