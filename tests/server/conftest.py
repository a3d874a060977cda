from __future__ import annotations

import collections.abc as cabc
import typing as t

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from tests.server import figures
from tests.server.harness import Admins
from tests.server.harness import CONTRACT_SOURCES
from tests.server.harness import ServerAdmin
from tests.server.servers import Server
from tests.server.servers import SERVERS
from tests.servers import skip_or_fail
from tests.servers import why_unreachable
from tests.sqla.models import Address
from tests.sqla.models import Person
from tests.sqla.models import Team
from tests.sqla.sources import SOURCES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures the server tests measured."""
    lines = figures.summary()

    if lines:
        terminalreporter.section("Reliability figures")

        for line in lines:
            terminalreporter.line(line)

    written = figures.write_if_asked()

    if written:
        terminalreporter.line(f"Reliability figures written to {written}")


@pytest.fixture(scope="session", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> cabc.Iterator[Server]:
    """A database of the tests' own on each server; unreachable servers skip, or
    fail when ``SQLA_LITE_REQUIRE_SERVERS=1``."""
    kind = SERVERS[request.param]
    reason = why_unreachable(kind.server_url_setting)

    if reason is not None:
        skip_or_fail(kind.server_url_setting, reason)

    server = kind.connect()
    figures.SERVER_VERSIONS[server.name] = server.version()
    yield server
    server.drop()


@pytest.fixture
def database(server: Server) -> cabc.Iterator[Server]:
    """The server with empty tables; afterwards, every connection a test left
    to its database is ended, so one failure cannot block the next test."""
    with server.control.begin() as conn:
        for table in ("address", "person", "team"):
            conn.execute(sa.text(f"DELETE FROM {table}"))

    yield server

    for backend in server.connections():
        server.kill(backend)


@pytest.fixture
def seeded(database: Server) -> dict[str, int]:
    """Two teams and two people, one with an address; returns their ids by name."""
    with orm.Session(database.control) as session:
        red, blue = Team(name="red"), Team(name="blue")
        alice = Person(name="alice", score=3, team=red)
        bob = Person(name="bob", score=1, team=blue)
        alice.addresses.append(Address(street="Elm St"))
        session.add_all([alice, bob])
        session.commit()
        return {"red": red.id, "blue": blue.id, "alice": alice.id, "bob": bob.id}


@pytest.fixture
def admins(database: Server) -> cabc.Iterator[Admins]:
    """Builds test admins on the server; their engines are disposed after the test."""
    admins = Admins(database)
    yield admins
    admins.dispose()


@pytest.fixture(params=sorted(SOURCES))
def source_id(request: pytest.FixtureRequest) -> str:
    """Each per-request session source."""
    return t.cast(str, request.param)


@pytest.fixture
def admin(admins: Admins, source_id: str) -> ServerAdmin:
    """The test admin over each per-request source, with a pool of two."""
    return admins.build(source_id)


@pytest.fixture(params=CONTRACT_SOURCES)
def contract_source_id(request: pytest.FixtureRequest) -> str:
    """One per-request source per row of the resolver contract."""
    return t.cast(str, request.param)
