"""The admin under test on a server: its app, its pool's traffic, the sessions its
views were handed, and the checks that nothing outlived a request."""

from __future__ import annotations

import collections.abc as cabc
import threading
import typing as t

import jinja2
from flask import Flask
from flask.signals import appcontext_popped
from flask.signals import got_request_exception
from flask.signals import request_started
from flask.testing import FlaskClient
from sqlalchemy import orm

from tests.server import figures
from tests.server.pools import PoolTracker
from tests.server.servers import Server
from tests.sqla.admin_app import build_app
from tests.sqla.admin_app import build_views
from tests.sqla.sources import SOURCES
from tests.sqla.sources import SourceSetup

CONTRACT_SOURCES = (
    "engine",
    "fsa-db",
    "lite-callable",
    "lite-db",
    "lite-none",
    "scoped_session",
    "sessionmaker",
)
"""One source of :data:`SOURCES` per row of the resolver contract (DESIGN.md):
Flask-SQLAlchemy-Lite, Flask-SQLAlchemy, ``scoped_session``, ``sessionmaker``,
``Engine``, a callable, and ``None``. The other ids resolve through the same
path as one of these (a named Lite session, Flask-SQLAlchemy's ``db.session``
or omitted source, a ``get_session()`` override over a sessionmaker)."""


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory for every test app, so each new app does
    not compile Flask-Admin's templates again (about 0.15 s an app)."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._compiled:
            bucket.bytecode_from_string(self._compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


class SessionLog:
    """The sessions ``get_session()`` returned, and the requests holding them.

    A request holds its session from the first ``get_session()`` call until its
    application context is popped, after every teardown has run.
    """

    def __init__(self) -> None:
        self.sessions: list[orm.Session] = []
        self.in_flight: dict[int, orm.Session] = {}
        self.most_in_flight = 0
        self.shared_in_flight = 0
        self._lock = threading.Lock()

    def handed_out(self, session: orm.Session) -> None:
        """Record ``session`` as held by the current thread's request."""
        thread = threading.get_ident()

        with self._lock:
            self.sessions.append(session)

            if any(
                other is session
                for holder, other in self.in_flight.items()
                if holder != thread
            ):
                self.shared_in_flight += 1

            self.in_flight[thread] = session
            self.most_in_flight = max(self.most_in_flight, len(self.in_flight))

    def released(self, sender: Flask, **kwargs: t.Any) -> None:
        """Forget the session of the current thread's request."""
        with self._lock:
            self.in_flight.pop(threading.get_ident(), None)


class ServerAdmin:
    """The test admin over one session source, on one server.

    :param record: Record every session handed out, in :attr:`log`.
    :param view_base: The views' base class, instead of the source's.
    :param mixins: Classes the views derive from before their base class.
    """

    def __init__(
        self,
        server: Server,
        setup: SourceSetup,
        *,
        record: bool = True,
        view_base: type[t.Any] | None = None,
        mixins: tuple[type, ...] = (),
    ) -> None:
        self.server = server
        self.setup = setup
        self.log = SessionLog()
        self.exceptions: list[BaseException] = []
        base: type[t.Any] = type(
            "ServerView", (*mixins, view_base or setup.view_base), {}
        )

        if record:
            log = self.log

            class RecordingView(base):  # type: ignore[misc]
                def get_session(self) -> orm.Session:
                    session: orm.Session = super().get_session()
                    log.handed_out(session)
                    return session

            base = RecordingView

        self.views = build_views(setup.source, base, **setup.view_options)
        self.app: Flask = build_app(setup, self.views)
        self.app.jinja_env.bytecode_cache = _BYTECODE
        appcontext_popped.connect(self.log.released, self.app)
        got_request_exception.connect(self._record_exception, self.app)
        request_started.connect(self._count_request, self.app)
        self.pool = PoolTracker(setup.engine_for(self.app), server.backend_id)

    def _count_request(self, sender: Flask, **kwargs: t.Any) -> None:
        figures.REQUESTS[self.server.name] += 1

    def _record_exception(
        self, sender: Flask, exception: BaseException, **kwargs: t.Any
    ) -> None:
        self.exceptions.append(exception)

    def client(self) -> FlaskClient:
        """A test client of the admin app."""
        return self.app.test_client()

    def assert_released(self) -> None:
        """Nothing is checked out of the pool, every checkout was checked in, and
        no connection sits idle in a transaction on the server."""
        assert self.pool.checked_out() == 0
        assert self.pool.checkouts == self.pool.checkins
        assert self.server.idle_in_transaction() == 0
        figures.CHECKS[self.server.name] += 1


class Admins:
    """Builds test admins over the sources of :data:`SOURCES` on a server, and
    disposes their engines."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.setups: list[SourceSetup] = []

    def build(
        self,
        source: str | cabc.Callable[[str], SourceSetup],
        *,
        pool_size: int = 2,
        pool_timeout: float = 1.0,
        pre_ping: bool = False,
        statement_timeout: float | None = None,
        record: bool = True,
        view_base: type[t.Any] | None = None,
        mixins: tuple[type, ...] = (),
    ) -> ServerAdmin:
        """Build the admin over ``source``, a :data:`SOURCES` id or a builder like
        them, with the pool settings given (see :meth:`Server.admin_url`)."""
        url = self.server.admin_url(
            pool_size=pool_size,
            pool_timeout=pool_timeout,
            pre_ping=pre_ping,
            statement_timeout=statement_timeout,
        )
        builder = SOURCES[source] if isinstance(source, str) else source
        setup = builder(url)
        self.setups.append(setup)
        return ServerAdmin(
            self.server, setup, record=record, view_base=view_base, mixins=mixins
        )

    def dispose(self) -> None:
        """Dispose the engines of every admin built."""
        for setup in self.setups:
            setup.dispose()
