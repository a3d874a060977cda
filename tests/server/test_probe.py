"""``admin-sessions --probe`` on PostgreSQL and MariaDB: it catches each leak of
stock Flask-Admin views, finds none in ours, and leaves the database as it was."""

from __future__ import annotations

import collections.abc as cabc
import typing as t
import warnings

import pytest
import sqlalchemy as sa
from flask_admin.contrib.sqla.view import ModelView as StockModelView
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite._probe import AdminProbe
from flask_admin.contrib.sqla_lite._probe import probe_app
from tests.server.harness import Admins
from tests.server.harness import ServerAdmin
from tests.server.servers import Server
from tests.sqla.sources import _plain
from tests.sqla.sources import app_context_id
from tests.sqla.sources import REGISTRY_FUNCTIONS
from tests.sqla.sources import SOURCE_PARAMS
from tests.sqla.sources import SOURCES
from tests.sqla.sources import SourceSetup
from tests.sqla.sources import without_lite_installed

pytestmark = pytest.mark.server

STOCK_SOURCES: dict[str, cabc.Callable[[sa.Engine], object]] = {
    "scoped_session": lambda engine: orm.scoped_session(orm.sessionmaker(engine)),
    "issue-2585": lambda engine: orm.scoped_session(
        orm.sessionmaker(engine), scopefunc=app_context_id
    ),
    "shared": lambda engine: orm.Session(engine),
}
"""What stock views are given in the leaking apps users run today, by test id."""

OURS = {**SOURCES, **REGISTRY_FUNCTIONS}
"""Every per-request source of ours, by test id."""

OURS_PARAMS = [*SOURCE_PARAMS, *REGISTRY_FUNCTIONS]
"""The ids of :data:`OURS`, Flask-SQLAlchemy-Lite's skipped where it is missing."""


def stock_admin(admins: Admins, source: str) -> ServerAdmin:
    """The test admin with stock views over ``STOCK_SOURCES[source]``, and a pool
    of four connections."""

    def setup(url: str) -> SourceSetup:
        return _plain(url, STOCK_SOURCES[source])

    with without_lite_installed(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return admins.build(setup, pool_size=4, record=False, view_base=StockModelView)


def verdicts(admins: list[AdminProbe]) -> dict[str, list[str]]:
    """The problems of each view, by endpoint, each error as ``"error"``."""
    return {
        result.view.endpoint: [
            "error" if problem.startswith("error: ") else problem
            for problem in result.problems
        ]
        for admin in admins
        for result in admin.views
    }


def snapshot(server: Server) -> dict[str, list[t.Any]]:
    """Every row of the test tables."""
    with server.control.connect() as conn:
        return {
            table: list(conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")))
            for table in ("team", "person", "address")
        }


def test_raw_scoped_session_idle_in_transaction(
    admins: Admins, seeded: dict[str, int]
) -> None:
    """A stock view over a raw ``scoped_session`` keeps a connection checked out
    and idle in transaction after its requests; every view says so."""
    probe = probe_app(stock_admin(admins, "scoped_session").app)

    assert set(map(tuple, verdicts(probe).values())) == {
        ("idle in transaction", "connection held")
    }
    (person, *_) = probe[0].views
    assert person.measured.idle_in_transaction == 1
    assert person.measured.held == [1] * len(person.measured.pages)
    assert "flask_admin.contrib.sqla_lite.ModelView" in (person.fix or "")


def test_issue_2585_leaks_a_connection_per_request(
    admins: Admins, seeded: dict[str, int]
) -> None:
    """The workaround from flask-admin #2585 leaves more connections idle in
    transaction after each request, until the pool of four runs dry.

    Its key is the id of the request's app context, which Python may give again
    to a later one once the first is freed: that request then reuses the
    leaked session instead of leaking one more, so the count may pause."""
    probe = probe_app(stock_admin(admins, "issue-2585").app, timeout=20)
    person = probe[0].views[0]
    held = person.measured.held

    assert person.problems[:2] == [
        "idle in transaction",
        "connection leaked per request",
    ]
    assert held == sorted(held)
    assert held[0] == 1
    # The second view is caught too. On MariaDB, where the pool may already be
    # exhausted, its own leaked transactions need not show in innodb_trx, nor
    # one more connection per request: the connections it holds still do.
    assert {
        "idle in transaction",
        "connection leaked per request",
        "connection held",
    } & set(verdicts(probe)["team"])


def test_shared_session_shows_stale_rows(
    admins: Admins, seeded: dict[str, int], database: Server
) -> None:
    """With ``write_check``, a stock view over one shared ``Session`` shows a row
    changed out of band between two requests unchanged; the change is undone."""
    before = snapshot(database)
    probe = probe_app(stock_admin(admins, "shared").app, write_check=True)
    person = probe[0].views[0]

    assert "stale rows" in person.problems
    assert person.measured.stale_check is not None
    assert person.measured.stale_check.startswith("set person.name of row ")
    assert snapshot(database) == before


@pytest.mark.parametrize("source_id", OURS_PARAMS)
def test_ours_is_ok(
    admins: Admins, seeded: dict[str, int], database: Server, source_id: str
) -> None:
    """Every view over every per-request source of ours is ``ok``, rows fresh,
    and the write check leaves every row as it was."""
    before = snapshot(database)
    probe = probe_app(admins.build(OURS[source_id]).app, write_check=True)

    assert verdicts(probe) == {"person": [], "person_select": [], "team": []}
    person = probe[0].views[0]
    assert person.measured.pages == [
        "list",
        "list after a change",
        "search",
        "details",
        "edit form",
        "ajax lookup 'team'",
    ]
    assert person.measured.stale is False
    assert person.measured.idle_in_transaction is None
    assert person.measured.server_check == "was not asked: no connection held"
    assert person.measured.checkins == person.measured.checkouts > 0
    assert snapshot(database) == before
