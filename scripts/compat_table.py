"""Measure what stock Flask-Admin and flask-admin-sqla-lite do with each kind of
session source, and print the result as a reStructuredText table.

Every source is tried with the installed versions on a temporary SQLite file:
the view is built outside any application context, the way views are built at
import time, then two admin requests list the rows, with a row renamed behind
the admin's back between them. After each request the script counts the
connections checked out of the pool and the transactions left open.

Rows for Flask-SQLAlchemy or Flask-SQLAlchemy-Lite are left out when that
extension is not installed. Stock Flask-Admin treats some sources differently
when Flask-SQLAlchemy-Lite is installed, so run it in both environments to see
both. Run::

    python scripts/compat_table.py
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import gc
import importlib
import importlib.metadata
import importlib.util
import pathlib
import tempfile
import typing as t
import warnings

import jinja2
import sqlalchemy as sa
from flask import Flask
from flask.globals import app_ctx
from flask_admin.contrib.sqla.view import ModelView as StockModelView
from sqlalchemy import event
from sqlalchemy import orm
from sqlalchemy.ext import asyncio as sa_async

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView

if t.TYPE_CHECKING:
    import flask_sqlalchemy
    import flask_sqlalchemy_lite

try:
    from flask_babel import Babel
except ImportError:  # pragma: no cover - Flask-Admin needs Babel only if installed
    Babel = None

ORIGINAL = "Ada"
"""The name of the one row when the first request lists it."""

RENAMED = "Grace"
"""The name the row is given behind the admin's back before the second request."""

VERSIONED = ("Flask-Admin", "SQLAlchemy", "Flask-SQLAlchemy", "Flask-SQLAlchemy-Lite")
"""The distributions whose versions decide the stock column."""

AnyView: t.TypeAlias = t.Any
"""A stock or our ``ModelView``: Flask-Admin has no type information."""

BuildView = cabc.Callable[[Flask, type[AnyView]], AnyView]
"""Builds the view from a ``ModelView`` class; called with no app context."""


Base: t.Any = orm.declarative_base()
"""The declarative base of the one table, in the style SQLAlchemy 1.4 and 2.x share."""


class Person(Base):  # type: ignore[misc]
    """The model the admin lists."""

    __tablename__ = "person"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(50), nullable=False)


@dataclasses.dataclass(frozen=True)
class Setup:
    """One source, made fresh for one app."""

    init_app: cabc.Callable[[Flask], sa.Engine]
    """Registers the source's extension, if any, and returns the engine it uses."""

    build: BuildView
    """Builds the view over :class:`Person`."""


@dataclasses.dataclass(frozen=True)
class Case:
    """A row of the table."""

    label: str
    """What the app passes, as reStructuredText."""

    make: cabc.Callable[[str], Setup]
    """Makes the source for a database URL."""

    needs: str | None = None
    """The module the source comes from, if it is not always installed, or
    ``module:name`` for a name that only some versions of the module have."""

    @property
    def installed(self) -> bool:
        """Whether :attr:`needs` can be imported."""
        if self.needs is None:
            return True

        module, _, name = self.needs.partition(":")

        if importlib.util.find_spec(module) is None:
            return False

        return not name or hasattr(importlib.import_module(module), name)


def _flask_sqlalchemy(
    label: str,
    build: cabc.Callable[[flask_sqlalchemy.SQLAlchemy, type[AnyView]], AnyView],
) -> Case:
    """A row whose source comes from a Flask-SQLAlchemy ``db``."""

    def make(url: str) -> Setup:
        import flask_sqlalchemy

        db = flask_sqlalchemy.SQLAlchemy()

        def init_app(app: Flask) -> sa.Engine:
            app.config["SQLALCHEMY_DATABASE_URI"] = url
            db.init_app(app)
            with app.app_context():
                return db.engine

        return Setup(init_app, lambda app, view_class: build(db, view_class))

    return Case(f"{label} (Flask-SQLAlchemy)", make, needs="flask_sqlalchemy")


def _lite(
    label: str,
    build: cabc.Callable[
        [flask_sqlalchemy_lite.SQLAlchemy, Flask, type[AnyView]], AnyView
    ],
) -> Case:
    """A row whose source comes from a Flask-SQLAlchemy-Lite ``db``."""

    def make(url: str) -> Setup:
        import flask_sqlalchemy_lite

        db = flask_sqlalchemy_lite.SQLAlchemy()

        def init_app(app: Flask) -> sa.Engine:
            app.config["SQLALCHEMY_ENGINES"] = {"default": url}
            db.init_app(app)
            with app.app_context():
                return db.engine

        return Setup(init_app, lambda app, view_class: build(db, app, view_class))

    return Case(f"{label} (Flask-SQLAlchemy-Lite)", make, needs="flask_sqlalchemy_lite")


def _plain(
    label: str,
    build: cabc.Callable[[sa.Engine, type[AnyView]], AnyView],
    needs: str | None = None,
) -> Case:
    """A row whose source is made from an engine, with no Flask extension."""

    def make(url: str) -> Setup:
        engine = sa.create_engine(url)
        return Setup(
            lambda app: engine, lambda app, view_class: build(engine, view_class)
        )

    return Case(label, make, needs)


def _app_context_id() -> int:
    """The scope function of the workaround from flask-admin issue #2585."""
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


def _issue_2585_workaround(
    db: flask_sqlalchemy_lite.SQLAlchemy, app: Flask, view_class: type[AnyView]
) -> AnyView:
    """``scoped_session(db.sessionmaker, scopefunc=<app context id>)``, built in
    an app context as that workaround needs; the view is built outside it."""
    with app.app_context():
        factory = db.sessionmaker

    return view_class(Person, orm.scoped_session(factory, _app_context_id))


def _async_factory() -> t.Any:
    """An async session factory: ``async_sessionmaker()``, or on SQLAlchemy 1.4,
    which has none, ``sessionmaker(class_=AsyncSession)``."""
    if hasattr(sa_async, "async_sessionmaker"):
        return sa_async.async_sessionmaker()

    return orm.sessionmaker(class_=sa_async.AsyncSession)


async def _async_session_function() -> sa_async.AsyncSession:
    """An ``async def`` session function (never awaited here)."""
    return sa_async.AsyncSession()


CASES: tuple[Case, ...] = (
    _flask_sqlalchemy("``db``", lambda db, view: view(Person, db)),
    _flask_sqlalchemy("``db.session``", lambda db, view: view(Person, db.session)),
    _lite("``db``", lambda db, app, view: view(Person, db)),
    _lite(
        '``db, session_name="admin"``',
        lambda db, app, view: view(Person, db, session_name="admin"),
    ),
    _lite(
        "``lambda: db.session``", lambda db, app, view: view(Person, lambda: db.session)
    ),
    _lite("omitted", lambda db, app, view: view(Person)),
    _flask_sqlalchemy("omitted", lambda db, view: view(Person)),
    _plain(
        "``scoped_session(sessionmaker(engine))``",
        lambda engine, view: view(Person, orm.scoped_session(orm.sessionmaker(engine))),
    ),
    _lite(
        "``scoped_session(db.sessionmaker, scopefunc=<app context id>)``,"
        " the workaround from flask-admin #2585",
        _issue_2585_workaround,
    ),
    _plain(
        "``sessionmaker(engine)``",
        lambda engine, view: view(Person, orm.sessionmaker(engine)),
    ),
    _plain("``engine``", lambda engine, view: view(Person, engine)),
    _plain(
        "``Session(engine)``", lambda engine, view: view(Person, orm.Session(engine))
    ),
    _plain(
        "``async_sessionmaker(...)``",
        lambda engine, view: view(Person, sa_async.async_sessionmaker()),
        needs="sqlalchemy.ext.asyncio:async_sessionmaker",
    ),
    _plain(
        "``AsyncSession(...)``",
        lambda engine, view: view(Person, sa_async.AsyncSession()),
    ),
    _plain(
        "``async_scoped_session(...)``",
        lambda engine, view: view(
            Person,
            sa_async.async_scoped_session(_async_factory(), scopefunc=_app_context_id),
        ),
        needs="sqlalchemy.ext.asyncio:async_scoped_session",
    ),
    _plain(
        "``async def get_session()``",
        lambda engine, view: view(Person, _async_session_function),
    ),
)
"""The rows, in the order the compatibility page discusses them."""


class _Usage:
    """Counts the connections checked out of an engine's pool, and keeps the
    connections whose transaction is open."""

    def __init__(self, engine: sa.Engine) -> None:
        self.checked_out = 0
        self.in_transaction: set[sa.Connection] = set()
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)
        event.listen(engine, "begin", self.in_transaction.add)
        event.listen(engine, "commit", self.in_transaction.discard)
        event.listen(engine, "rollback", self.in_transaction.discard)

    def _checkout(self, *args: object) -> None:
        self.checked_out += 1

    def _checkin(self, *args: object) -> None:
        self.checked_out -= 1

    def release(self) -> None:
        """Close the connections left in a transaction, returning them to the pool."""
        for connection in list(self.in_transaction):
            connection.close()


def _create_database(directory: pathlib.Path) -> str:
    """Create the table with one row in a SQLite file and return its URL."""
    url = f"sqlite:///{directory / 'admin.sqlite3'}"
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    with orm.Session(engine) as session, session.begin():
        session.add(Person(name=ORIGINAL))
    engine.dispose()
    return url


def _rename_out_of_band(url: str) -> None:
    """Rename the row through a connection of its own."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.update(Person).values(name=RENAMED))
    engine.dispose()


def _make_app(templates: jinja2.BytecodeCache) -> Flask:
    """An app that shares compiled templates with the others of this run."""
    app = Flask(__name__)
    app.testing = True
    app.jinja_options = {**app.jinja_options, "bytecode_cache": templates}

    if Babel is not None:
        Babel(app)

    return app


def _serve(app: Flask, url: str, usage: _Usage) -> str:
    """List the rows twice, renaming the row in between; describe what went wrong.

    The garbage collector is held off meanwhile: a session kept from the first
    request answers from its identity map only while the objects it loaded are
    alive, and whether the collector has run in between would otherwise decide
    the result.
    """
    client = app.test_client()
    pages: list[str] = []
    held: list[int] = []
    gc.disable()

    try:
        for _ in range(2):
            if pages:
                _rename_out_of_band(url)

            response = client.get("/admin/person/")

            if response.status_code != 200:
                return f"HTTP {response.status_code} on request"

            pages.append(response.text)
            held.append(usage.checked_out)
    finally:
        gc.enable()

    problems = []

    if ORIGINAL not in pages[0]:
        problems.append("rows missing")

    if RENAMED not in pages[1]:
        problems.append("stale rows")

    if usage.in_transaction:
        problems.append("idle in transaction")

    if held[1] > held[0] > 0:
        problems.append("a connection leaked per request")
    elif held[1]:
        problems.append("connection held")

    return ", ".join(problems) or "works"


def _try_source(
    case: Case, view_class: type[AnyView], url: str, templates: jinja2.BytecodeCache
) -> str:
    """Register a view over ``case``'s source and serve it; describe the result."""
    setup = case.make(url)
    app = _make_app(templates)
    engine = setup.init_app(app)
    usage = _Usage(engine)

    try:
        try:
            view = setup.build(app, view_class)
        except Exception as error:
            return f"{type(error).__name__} at registration"

        Admin(app).add_view(view)

        try:
            return _serve(app, url, usage)
        except Exception as error:
            return f"{type(error).__name__} on request"
    finally:
        usage.release()
        engine.dispose()


def measure(case: Case, view_class: type[AnyView], directory: pathlib.Path) -> str:
    """Describe what ``view_class`` does with ``case``'s source, e.g. ``"works"``,
    ``"TypeError at registration"`` or ``"stale rows, connection held"``, with
    the warnings it gave.

    :param directory: Holds the SQLite file, and templates compiled by earlier
        measurements.
    """
    url = _create_database(pathlib.Path(tempfile.mkdtemp(dir=directory)))
    templates = jinja2.FileSystemBytecodeCache(str(directory))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = _try_source(case, view_class, url, templates)

    categories = dict.fromkeys(warning.category.__name__ for warning in caught)

    if categories:
        outcome += f"; warns {', '.join(categories)}"

    return outcome


def _version(name: str) -> str:
    try:
        return f"{name} {importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{name} not installed"


def versions() -> str:
    """The versions the stock column depends on, as a sentence."""
    listed = [_version(name) for name in VERSIONED]
    return f"{', '.join(listed[:-1])} and {listed[-1]}"


@dataclasses.dataclass(frozen=True)
class Row:
    """The measured outcomes for one source."""

    label: str
    """What the app passes, as reStructuredText."""

    stock: str
    """What stock ``flask_admin.contrib.sqla.ModelView`` does with it."""

    ours: str
    """What ``flask_admin.contrib.sqla_lite.ModelView`` does with it."""


def measure_all() -> list[Row]:
    """Measure every case with the stock and our view."""
    with tempfile.TemporaryDirectory() as name:
        directory = pathlib.Path(name)
        return [
            Row(
                case.label,
                measure(case, StockModelView, directory),
                measure(case, ModelView, directory),
            )
            for case in CASES
            if case.installed
        ]


def render(rows: list[Row]) -> str:
    """The reStructuredText table of ``rows``, after the versions measured."""
    lines = [
        f"Measured with {versions()}.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 40 30 30",
        "",
        "   * - The view is given",
        "     - Stock Flask-Admin",
        "     - flask-admin-sqla-lite",
    ]

    for row in rows:
        lines.extend(
            (f"   * - {row.label}", f"     - {row.stock}", f"     - {row.ours}")
        )

    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(measure_all()), end="")
