"""On PostgreSQL and MariaDB, no request leaves a transaction or a connection
behind, and a row changed by someone else is seen on the next request."""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask_admin.contrib.sqla.view import ModelView as StockModelView
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import SharedSessionWarning
from tests.server.harness import Admins
from tests.server.harness import ServerAdmin
from tests.server.servers import Server
from tests.sqla.sources import shared_session
from tests.sqla.sources import SourceSetup

pytestmark = pytest.mark.server

READ_ONLY = (
    "/admin/person/",
    "/admin/person/?search=ali",
    "/admin/person/?flt0_0=bob",
    "/admin/person/?sort=1&desc=1",
    "/admin/person/details/?id={alice}",
    "/admin/person/edit/?id={alice}",
    "/admin/person/ajax/lookup/?name=team&query=r",
    "/admin/person/export/csv/",
    "/admin/person_select/new/",
    "/admin/team/",
)
"""Every read-only code path that reaches the database."""


def writes(ids: dict[str, int]) -> list[tuple[str, dict[str, str]]]:
    """Create, edit and delete requests, through every form feature."""
    return [
        (
            "/admin/person/new/",
            {"name": "carol", "score": "5", "team": str(ids["red"])},
        ),
        (
            f"/admin/person/edit/?id={ids['bob']}",
            {"name": "bobby", "score": "2", "addresses-0-street": "Oak Av"},
        ),
        ("/admin/person_select/new/", {"name": "dave", "team": str(ids["blue"])}),
        ("/admin/team/new/", {"name": "green"}),
        ("/admin/person/delete/", {"id": str(ids["bob"])}),
    ]


def drive(admin: ServerAdmin, ids: dict[str, int]) -> None:
    """Run the read-only and writing requests in turn, each checked for leaks."""
    client = admin.client()

    for url in READ_ONLY:
        response = client.get(url.format(**ids))
        assert response.status_code == 200, url
        admin.assert_released()

    for url, data in writes(ids):
        response = client.post(url, data=data)
        assert response.status_code == 302, url
        admin.assert_released()


def assert_sees_update(admin: ServerAdmin, server: Server, alice: int) -> None:
    """Read alice, rename her out of band, and expect the new name on the next
    list and details page."""
    client = admin.client()
    details = f"/admin/person/details/?id={alice}"
    assert "alice" in client.get(details).get_data(as_text=True)

    with server.control.begin() as conn:
        conn.execute(
            sa.text("UPDATE person SET name = 'alison' WHERE id = :id"), {"id": alice}
        )

    assert "alison" in client.get("/admin/person/").get_data(as_text=True)
    assert "alison" in client.get(details).get_data(as_text=True)


def assert_sees_insert(admin: ServerAdmin, server: Server) -> None:
    """List the people, insert one out of band, and expect it on the next list.

    A new row is never in an identity map: only a transaction that outlives its
    request, with its snapshot (MariaDB's ``REPEATABLE READ``), can hide it.
    """
    client = admin.client()
    assert "zed" not in client.get("/admin/person/").get_data(as_text=True)

    with server.control.begin() as conn:
        conn.execute(sa.text("INSERT INTO person (name, score) VALUES ('zed', 9)"))

    assert "zed" in client.get("/admin/person/").get_data(as_text=True)


def test_requests_leave_nothing_open(
    admin: ServerAdmin, seeded: dict[str, int]
) -> None:
    """After each read-only and writing request the pool is drained, every
    checkout was checked in, and no backend is idle in a transaction."""
    drive(admin, seeded)
    assert admin.pool.checkouts == len(READ_ONLY) + len(writes(seeded))
    assert len(admin.log.sessions) == admin.pool.checkouts


def test_changes_by_someone_else_are_seen(
    admin: ServerAdmin, database: Server, seeded: dict[str, int]
) -> None:
    """After the mix of reading and writing requests, a row updated and a row
    inserted out of band show on the next requests; on MariaDB a session that
    outlived its request would show a frozen snapshot (see the controls)."""
    drive(admin, seeded)
    assert_sees_update(admin, database, seeded["alice"])
    assert_sees_insert(admin, database)
    admin.assert_released()


def test_shared_session_is_left_without_transaction(
    admins: Admins, database: Server, seeded: dict[str, int]
) -> None:
    """The legacy shared ``Session`` serves every request and is left with no
    transaction after each one, so nothing is held and changes are seen."""
    with pytest.warns(SharedSessionWarning, match="shared by every request"):
        admin = admins.build(shared_session)

    drive(admin, seeded)
    assert_sees_update(admin, database, seeded["alice"])
    admin.assert_released()
    assert len(set(map(id, admin.log.sessions))) == 1


def raw_scoped_session(url: str) -> SourceSetup:
    """A raw ``scoped_session`` that nobody removes, for the stock view."""
    engine = sa.create_engine(url)
    scoped = orm.scoped_session(orm.sessionmaker(engine))
    return SourceSetup(scoped, lambda app: None, lambda app: engine, engine.dispose)


def test_checks_catch_a_leaked_transaction(
    admins: Admins, database: Server, seeded: dict[str, int]
) -> None:
    """The control: stock Flask-Admin with a raw ``scoped_session`` leaves the
    connection checked out and idle in transaction, and shows a stale row."""
    with pytest.warns(DeprecationWarning, match="Passing a session object"):
        admin = admins.build(raw_scoped_session, view_base=StockModelView, record=False)

    client = admin.client()
    details = f"/admin/person/details/?id={seeded['alice']}"
    client.get(details)
    held = (admin.pool.checked_out(), database.idle_in_transaction())

    with database.control.begin() as conn:
        conn.execute(sa.text("UPDATE person SET name = 'alison'"))

    body = client.get(details).get_data(as_text=True)
    t.cast(orm.scoped_session[orm.Session], admin.setup.source).remove()
    assert held == (1, 1)
    assert "alice" in body and "alison" not in body


def test_checks_catch_a_frozen_snapshot(
    admins: Admins, database: Server, seeded: dict[str, int]
) -> None:
    """The control for inserts: behind stock Flask-Admin's raw ``scoped_session``,
    a row inserted out of band stays hidden on MariaDB, whose ``REPEATABLE READ``
    snapshot the leaked transaction keeps; PostgreSQL's ``READ COMMITTED`` shows
    it."""
    with pytest.warns(DeprecationWarning, match="Passing a session object"):
        admin = admins.build(raw_scoped_session, view_base=StockModelView, record=False)

    client = admin.client()
    client.get("/admin/person/")

    with database.control.begin() as conn:
        conn.execute(sa.text("INSERT INTO person (name, score) VALUES ('zed', 9)"))

    body = client.get("/admin/person/").get_data(as_text=True)
    t.cast(orm.scoped_session[orm.Session], admin.setup.source).remove()
    assert ("zed" in body) == (database.name == "postgresql")
