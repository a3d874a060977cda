"""Faults on a real server: each ends with the pool drained, nothing idle in a
transaction, and row counts proving nothing was half-committed."""

from __future__ import annotations

import collections.abc as cabc
import threading
import time
import typing as t

import pytest
import sqlalchemy as sa
from flask import request
from flask.testing import FlaskClient
from sqlalchemy import orm
from werkzeug.test import TestResponse

from flask_admin.contrib.sqla_lite import ModelView
from tests.server import figures
from tests.server.harness import Admins
from tests.server.harness import ServerAdmin
from tests.server.servers import Server
from tests.server.serving import LiveServer
from tests.sqla.models import Team

pytestmark = pytest.mark.server


def rows(server: Server, query: str) -> list[tuple[t.Any, ...]]:
    """Read rows out of band."""
    with server.control.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query))]


def wait_for(condition: cabc.Callable[[], t.Any], what: str) -> t.Any:
    """Poll ``condition`` for up to 10 seconds; return its first true value."""
    deadline = time.monotonic() + 10

    while time.monotonic() < deadline:
        value = condition()

        if value:
            return value

        time.sleep(0.02)

    raise AssertionError(f"Timed out waiting for {what}.")


def racing_duplicate(server: Server) -> type:
    """A view mixin that commits a team named ``green`` out of band just before
    the admin commits one, as a second user racing the first would: the
    admin's ``Unique`` validator has already passed, the database refuses."""

    class RacingDuplicate(ModelView):
        def on_model_change(self, form: t.Any, model: t.Any, is_created: bool) -> None:
            if isinstance(model, Team) and model.name == "green":
                with server.control.begin() as conn:
                    conn.execute(sa.text("INSERT INTO team (name) VALUES ('green')"))

    return RacingDuplicate


def team_names(server: Server) -> list[str]:
    """The names of the teams, sorted."""
    return sorted(name for (name,) in rows(server, "SELECT name FROM team"))


@pytest.mark.parametrize(
    ("url", "teams_after_retry"),
    (
        ("/admin/team/new/", ["blue", "gold", "green", "red"]),
        ("/admin/team/edit/?id={blue}", ["gold", "green", "red"]),
    ),
    ids=("create", "edit"),
)
def test_unique_violation(
    admins: Admins,
    database: Server,
    contract_source_id: str,
    seeded: dict[str, int],
    url: str,
    teams_after_retry: list[str],
) -> None:
    """A create or edit refused by the database's unique index shows the error,
    writes nothing, and the next request on the same thread works."""
    admin = admins.build(contract_source_id, mixins=(racing_duplicate(database),))
    client = admin.client()
    response = client.post(url.format(**seeded), data={"name": "green"})
    assert response.status_code == 200
    assert "Integrity error." in response.get_data(as_text=True)
    admin.assert_released()
    assert team_names(database) == ["blue", "green", "red"]

    response = client.post(url.format(**seeded), data={"name": "gold"})
    assert response.status_code == 302
    admin.assert_released()
    assert team_names(database) == teams_after_retry


def kill_pooled(admin: ServerAdmin, server: Server) -> None:
    """End the server side of every connection the admin's pool opened."""
    for backend in admin.pool.backends:
        server.kill(backend)

    wait_for(
        lambda: not set(admin.pool.backends) & set(server.connections()),
        "the killed backends to exit",
    )


@pytest.fixture(params=(False, True), ids=("no-pre-ping", "pre-ping"))
def pre_ping(request: pytest.FixtureRequest) -> bool:
    """Whether the pool pings each connection at checkout."""
    return t.cast(bool, request.param)


@pytest.fixture
def pinged_admin(
    admins: Admins, contract_source_id: str, pre_ping: bool
) -> ServerAdmin:
    """The admin over each contract source, with and without ``pool_pre_ping``."""
    return admins.build(contract_source_id, pre_ping=pre_ping)


def test_backend_killed_between_requests(
    pinged_admin: ServerAdmin, database: Server, seeded: dict[str, int], pre_ping: bool
) -> None:
    """With pooled connections killed between requests, exactly the first
    request fails without ``pool_pre_ping`` (it meets the dead connection and
    SQLAlchemy invalidates the pool), none fails with it, and later requests
    succeed."""
    admin = pinged_admin
    client = admin.client()
    assert client.get("/admin/person/").status_code == 200
    kill_pooled(admin, database)

    statuses = [
        client.get("/admin/person/").status_code,
        client.get(f"/admin/person/details/?id={seeded['bob']}").status_code,
        client.post(
            f"/admin/person/edit/?id={seeded['bob']}",
            data={"name": "bob", "score": "7"},
        ).status_code,
        client.get("/admin/person/").status_code,
    ]

    figures.outcome(
        f"pooled backends killed between requests, pool_pre_ping={pre_ping}:"
        " the next list, details, edit, list",
        database.name,
        " ".join(map(str, statuses)),
    )
    assert statuses == ([200, 200, 302, 200] if pre_ping else [500, 200, 302, 200])
    assert all(
        isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
        for error in admin.exceptions
    )
    assert len(admin.exceptions) == (0 if pre_ping else 1)
    admin.assert_released()
    assert rows(database, "SELECT name, score FROM person ORDER BY name") == [
        ("alice", 3),
        ("bob", 7),
    ]


class InFlight(t.NamedTuple):
    """A request that blocks on a lock held out of band, and how it ends when its
    backend is killed."""

    send: cabc.Callable[[FlaskClient, dict[str, int]], TestResponse]
    lock: cabc.Callable[[Server, dict[str, int]], t.ContextManager[None]]
    status: int
    message: str


IN_FLIGHT = {
    "list": InFlight(
        lambda client, ids: client.get("/admin/person/"),
        lambda server, ids: server.lock_table("person"),
        500,
        "Internal Server Error",
    ),
    "edit": InFlight(
        lambda client, ids: client.post(
            f"/admin/person/edit/?id={ids['alice']}",
            data={"name": "alice", "score": "9"},
        ),
        lambda server, ids: server.lock_row("person", ids["alice"]),
        200,
        "Failed to update record.",
    ),
}
"""A read, ended by a 500, and a write, whose form shows the error."""


def kill_in_flight(
    admin: ServerAdmin, server: Server, ids: dict[str, int], in_flight: InFlight
) -> TestResponse:
    """Send the request, kill its backend while it waits for the lock, and
    return its response."""
    responses: list[TestResponse] = []

    with in_flight.lock(server, ids):
        thread = threading.Thread(
            target=lambda: responses.append(in_flight.send(admin.client(), ids))
        )
        thread.start()
        server.kill(wait_for(server.blocked, "the request to block")[0])
        thread.join()

    return responses[0]


def test_backend_killed_during_request(
    pinged_admin: ServerAdmin, database: Server, seeded: dict[str, int], pre_ping: bool
) -> None:
    """A request whose backend is killed while it runs fails, with or without
    ``pool_pre_ping``: a list with a 500, an edit with its error message and
    nothing written. The next requests succeed."""
    admin = pinged_admin

    for kind, in_flight in IN_FLIGHT.items():
        response = kill_in_flight(admin, database, seeded, in_flight)
        figures.outcome(
            f"backend killed during the request ({kind}), pool_pre_ping={pre_ping}",
            database.name,
            str(response.status_code),
        )
        assert response.status_code == in_flight.status
        assert in_flight.message in response.get_data(as_text=True)
        admin.assert_released()

    assert len(admin.exceptions) == 1
    assert rows(database, "SELECT score FROM person WHERE name = 'alice'") == [(3,)]
    client = admin.client()

    for in_flight in IN_FLIGHT.values():
        assert in_flight.send(client, seeded).status_code in (200, 302)

    admin.assert_released()
    assert rows(database, "SELECT name, score FROM person ORDER BY name") == [
        ("alice", 9),
        ("bob", 1),
    ]


def test_statement_timeout_on_list(
    admins: Admins, database: Server, contract_source_id: str, seeded: dict[str, int]
) -> None:
    """A list query cancelled by the server's statement timeout gives a plain
    500 page; nothing is held, and the next list works."""
    admin = admins.build(contract_source_id, statement_timeout=0.3)
    client = admin.client()

    with database.lock_table("person"):
        response = client.get("/admin/person/")

    assert response.status_code == 500
    assert "Internal Server Error" in response.get_data(as_text=True)
    (error,) = admin.exceptions
    assert isinstance(error, sa.exc.OperationalError)
    assert "statement timeout" in str(error) or "max_statement_time" in str(error)
    admin.assert_released()
    assert client.get("/admin/person/").status_code == 200
    admin.assert_released()
    assert rows(database, "SELECT count(*) FROM person") == [(2,)]


def test_client_disconnects_during_csv_export(
    admins: Admins, database: Server, contract_source_id: str
) -> None:
    """A client that resets the connection in the middle of a streamed CSV export
    leaves nothing held."""
    with orm.Session(database.control) as session:
        team = Team(name="red")
        session.add(team)
        session.flush()
        session.execute(
            sa.text("INSERT INTO person (name, score, team_id) VALUES (:n, :s, :t)"),
            [{"n": f"p{i:05}", "s": i, "t": team.id} for i in range(3000)],
        )
        session.commit()

    admin = admins.build(contract_source_id)

    with LiveServer(admin.app, send_buffer=4096) as server:
        head = server.abandon("/admin/person/export/csv/")
        wait_for(lambda: server.dropped, "the server to see the reset")

    assert head.startswith(b"HTTP/1.1 200 OK")
    assert isinstance(server.dropped[0], ConnectionError)
    assert admin.exceptions == []
    admin.assert_released()
    assert rows(database, "SELECT count(*) FROM person") == [(3000,)]


def refusing_get_session() -> type:
    """A view mixin whose ``get_session()`` refuses a suspended tenant after
    opening and using the session."""

    class RefusingGetSession(ModelView):
        def get_session(self) -> orm.Session:
            session: orm.Session = super().get_session()
            session.execute(sa.text("SELECT 1"))

            if request.headers.get("X-Tenant") == "suspended":
                raise PermissionError("The tenant is suspended.")

            return session

    return RefusingGetSession


def test_get_session_raising(
    admins: Admins, database: Server, source_id: str, seeded: dict[str, int]
) -> None:
    """A ``get_session()`` that raises after using its session gives a 500 on a
    read and on a write; nothing is held or written, and the next request works."""
    admin = admins.build(source_id, mixins=(refusing_get_session(),))
    client = admin.client()
    suspended = {"X-Tenant": "suspended"}
    read = client.get("/admin/person/", headers=suspended)
    write = client.post("/admin/person/new/", data={"name": "eve"}, headers=suspended)

    assert (read.status_code, write.status_code) == (500, 500)
    assert [type(error) for error in admin.exceptions] == [PermissionError] * 2
    admin.assert_released()
    assert client.get("/admin/person/").status_code == 200
    admin.assert_released()
    assert rows(database, "SELECT count(*) FROM person") == [(2,)]
