"""Sessions live for one request: a new one each time, nothing left checked out,
and a row changed by someone else is seen on the next request."""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import request
from flask.signals import appcontext_tearing_down
from flask.testing import FlaskClient
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import _context
from flask_admin.contrib.sqla_lite import SharedSessionWarning

from . import admin_app
from .admin_app import build_app
from .admin_app import build_views
from .sources import REGISTRY_FUNCTIONS
from .sources import shared_session
from .sources import SOURCES
from .sources import SourceSetup


class Recorded:
    """An admin app whose views record every session ``get_session()`` returns."""

    def __init__(self, setup: SourceSetup) -> None:
        self.setup = setup
        self.sessions: list[orm.Session] = []
        sessions = self.sessions

        class RecordingView(setup.view_base):  # type: ignore[misc,name-defined]
            def get_session(self) -> orm.Session:
                session: orm.Session = super().get_session()
                sessions.append(session)
                return session

        views = build_views(setup.source, RecordingView, **setup.view_options)
        self.app: Flask = build_app(setup, views)
        self.client: FlaskClient = self.app.test_client()

    def checked_out(self) -> int:
        """Connections of the view's engine checked out of the pool right now."""
        pool = self.setup.engine_for(self.app).pool
        return pool.checkedout()  # type: ignore[attr-defined,no-any-return]

    def check_drained(self, urls: t.Iterable[str]) -> None:
        """Serve each URL, reading and closing the response as a WSGI server
        does, and check that nothing is checked out after it.

        Before Flask 3.1.2, a streamed response (the CSV export) keeps its
        request context, and so its session, until it is closed.
        """
        for url in urls:
            with self.client.get(url) as response:
                assert response.status_code == 200, url
                response.get_data()
            assert self.checked_out() == 0, url


@pytest.fixture
def recorded(setup: SourceSetup) -> Recorded:
    """The admin app over the parametrised source, recording sessions."""
    return Recorded(setup)


READ_ONLY_REQUESTS = (
    "/admin/person/",
    "/admin/person/?search=a",
    "/admin/person/details/?id={alice}",
    "/admin/person/edit/?id={alice}",
    "/admin/person/ajax/lookup/?name=team&query=r",
    "/admin/person/export/csv/",
    "/admin/person_select/new/",
)


def test_new_session_per_request(recorded: Recorded, seeded: dict[str, int]) -> None:
    """Each request gets its own session, resolved once per view."""
    recorded.client.get("/admin/person/")
    recorded.client.get("/admin/person/")
    first, second = recorded.sessions
    assert first is not second


def test_one_session_for_a_whole_request(
    recorded: Recorded, seeded: dict[str, int]
) -> None:
    """A create that runs the ajax loader, inline models and validators resolves
    the session once."""
    response = recorded.client.post(
        "/admin/person/new/",
        data={"name": "eve", "team": str(seeded["red"]), "addresses-0-street": "A"},
    )
    assert response.status_code == 302
    assert len(recorded.sessions) == 1


def test_one_session_per_request_with_the_default_hook(
    db_url: str, seeded: dict[str, int]
) -> None:
    """Without an override of ``get_session()``, a create that runs the ajax
    loader, inline models and validators still opens one session per request."""
    opened: list[orm.Session] = []

    # Not subscripted: sessionmaker is generic from SQLAlchemy 2.0 on.
    class CountingSessionmaker(orm.sessionmaker):  # type: ignore[type-arg]
        def __call__(self, **local_kw: t.Any) -> orm.Session:
            session: orm.Session = super().__call__(**local_kw)
            opened.append(session)
            return session

    engine = sa.create_engine(db_url)
    source = CountingSessionmaker(engine)
    setup = SourceSetup(source, lambda app: None, lambda app: engine, engine.dispose)
    client = build_app(setup, build_views(source)).test_client()
    response = client.post(
        "/admin/person/new/",
        data={"name": "eve", "team": str(seeded["red"]), "addresses-0-street": "A"},
    )
    assert response.status_code == 302
    assert len(opened) == 1
    client.get("/admin/person/")
    assert len(opened) == 2
    engine.dispose()


def test_nothing_checked_out_after_each_request(
    recorded: Recorded, seeded: dict[str, int]
) -> None:
    """After every read-only and writing request the pool is drained."""
    recorded.check_drained(url.format(**seeded) for url in READ_ONLY_REQUESTS)

    recorded.client.post(f"/admin/person/edit/?id={seeded['bob']}", data={"name": "b"})
    assert recorded.checked_out() == 0


def test_change_by_someone_else_is_seen(
    recorded: Recorded, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """A row updated out of band between two requests shows its new value."""
    details = f"/admin/person/details/?id={seeded['alice']}"
    assert "alice" in recorded.client.get(details).get_data(as_text=True)

    with out_of_band.begin() as conn:
        conn.execute(sa.text("UPDATE person SET name = 'alison' WHERE name = 'alice'"))

    assert "alison" in recorded.client.get("/admin/person/").get_data(as_text=True)
    assert "alison" in recorded.client.get(details).get_data(as_text=True)


@pytest.mark.parametrize(
    "source_id", ("sessionmaker", "engine"), ids=("sessionmaker", "engine")
)
def test_view_closes_the_sessions_it_creates(
    source_id: str, db_url: str, seeded: dict[str, int]
) -> None:
    """A session the view made from a sessionmaker or engine is closed at teardown."""
    recorded = Recorded(SOURCES[source_id](db_url))
    recorded.client.get(f"/admin/person/details/?id={seeded['alice']}")
    (session,) = recorded.sessions
    assert not session.in_transaction()
    assert len(session.identity_map) == 0
    recorded.setup.dispose()


def test_app_teardown_signal_left_alone_by_admin_requests(
    db_url: str, seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin's requests end the sessions the view opened themselves: the
    package connects no receiver to every app context's teardown for them. A
    session used in an app context outside a request connects it, and is closed."""
    monkeypatch.setattr(_context, "_receiver_connected", False)
    appcontext_tearing_down.disconnect(_context._end_context_sessions)
    recorded = Recorded(SOURCES["sessionmaker"](db_url))

    recorded.client.get(f"/admin/person/details/?id={seeded['alice']}")
    connected_by_request = set(appcontext_tearing_down.receivers_for(recorded.app))
    with recorded.app.app_context():
        (view,) = (
            v
            for v in recorded.app.extensions["admin"][0]._views
            if v.endpoint == "person"
        )
        assert view.session.get(view.model, seeded["alice"]) is not None

    assert _context._end_context_sessions not in connected_by_request
    assert len(recorded.sessions) == 2
    assert not recorded.sessions[0].in_transaction()
    assert not recorded.sessions[1].in_transaction()
    assert len(recorded.sessions[1].identity_map) == 0
    recorded.setup.dispose()


def test_scoped_session_is_removed_at_teardown(
    db_url: str, seeded: dict[str, int]
) -> None:
    """The view ends the registry's session of a ``scoped_session`` at teardown."""
    engine = sa.create_engine(db_url)
    scoped = orm.scoped_session(orm.sessionmaker(engine))
    setup = SourceSetup(scoped, lambda app: None, lambda app: engine, engine.dispose)
    recorded = Recorded(setup)
    recorded.client.get("/admin/person/")
    assert not scoped.registry.has()
    assert not recorded.sessions[0].in_transaction()
    engine.dispose()


def test_scoped_session_keyed_on_the_request(
    db_url: str, seeded: dict[str, int]
) -> None:
    """A ``scoped_session`` whose ``scopefunc`` reads the request, which has ended
    by app-context teardown, still has its session closed and dropped."""
    engine = sa.create_engine(db_url)
    scoped = orm.scoped_session(
        orm.sessionmaker(engine),
        scopefunc=lambda: id(request._get_current_object()),  # type: ignore[attr-defined]
    )
    setup = SourceSetup(scoped, lambda app: None, lambda app: engine, engine.dispose)
    recorded = Recorded(setup)

    for _ in range(2):
        assert recorded.client.get("/admin/person/").status_code == 200

    assert scoped.registry.registry == {}
    assert not any(session.in_transaction() for session in recorded.sessions)
    assert recorded.checked_out() == 0
    engine.dispose()


def test_callable_session_is_left_to_its_owner(
    db_url: str, seeded: dict[str, int]
) -> None:
    """A session returned by the user's function is not closed by the view."""
    engine = sa.create_engine(db_url)
    owned = orm.Session(engine)
    setup = SourceSetup(
        lambda: owned, lambda app: None, lambda app: engine, engine.dispose
    )
    Recorded(setup).client.get("/admin/person/")
    assert owned.in_transaction()
    assert len(owned.identity_map) > 0
    owned.close()
    engine.dispose()


def test_shared_session_is_warned_and_left_without_transaction(
    db_url: str, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """A plain ``Session`` warns where the view is built, serves every request,
    and has no open transaction after each one, so changes are seen."""
    setup = shared_session(db_url)

    with pytest.warns(SharedSessionWarning, match="shared by every request") as record:
        recorded = Recorded(setup)

    assert record[0].filename == admin_app.__file__
    recorded.client.get("/admin/person/")
    assert not recorded.sessions[0].in_transaction()
    assert recorded.checked_out() == 0

    with out_of_band.begin() as conn:
        conn.execute(sa.text("UPDATE person SET name = 'alison' WHERE name = 'alice'"))

    assert "alison" in recorded.client.get("/admin/person/").get_data(as_text=True)
    first, second = recorded.sessions
    assert first is second
    setup.dispose()


@pytest.mark.parametrize(
    "source_id", list(REGISTRY_FUNCTIONS), ids=list(REGISTRY_FUNCTIONS)
)
def test_function_returning_a_scoped_session(
    source_id: str, db_url: str, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """A function returning a ``scoped_session`` gives the registry's session, a
    new one per request, ended with the request, so changes are seen."""
    setup = REGISTRY_FUNCTIONS[source_id](db_url)
    recorded = Recorded(setup)

    recorded.check_drained(url.format(**seeded) for url in READ_ONLY_REQUESTS)

    with out_of_band.begin() as conn:
        conn.execute(sa.text("UPDATE person SET name = 'alison' WHERE name = 'alice'"))

    assert "alison" in recorded.client.get("/admin/person/").get_data(as_text=True)
    assert all(isinstance(session, orm.Session) for session in recorded.sessions)
    assert len(set(map(id, recorded.sessions))) == len(recorded.sessions)
    assert not any(session.in_transaction() for session in recorded.sessions)
    setup.dispose()
