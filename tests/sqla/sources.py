"""Every kind of session source a view can be given, built for one database URL.

Each builder returns a :class:`SourceSetup`: the source is built the way users
build it, at import time with no application context.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import dataclasses
import typing as t

import flask_sqlalchemy
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.globals import app_ctx
from flask_admin.contrib.sqla import _compat as stock_compat
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import ModelView
from flask_admin.contrib.sqla_lite import resolve_session_source

from ..optional import flask_sqlalchemy_lite
from ..optional import lite_param
from .models import Base


@dataclasses.dataclass
class SourceSetup:
    """A session source and what a test needs to run an app with it."""

    source: object
    """What the view is given as ``session``."""

    init_app: cabc.Callable[[Flask], None]
    """Registers the source's extension, if any, on the app."""

    engine_for: cabc.Callable[[Flask], sa.Engine]
    """The engine the view's sessions use in the app."""

    dispose: cabc.Callable[[], None]
    """Disposes engines the setup created itself."""

    per_request: bool = True
    """Whether every request gets a new session."""

    view_options: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    """Extra keyword arguments for the view."""

    view_base: type[ModelView] = ModelView
    """The view class the admin's views derive from."""


def _nothing(app: Flask) -> None:
    """Register nothing: the source needs no extension."""


class _Extension(t.Protocol):
    """What the tests use of a Flask-SQLAlchemy(-Lite) extension."""

    def init_app(self, app: Flask) -> None: ...

    @property
    def engine(self) -> sa.Engine: ...

    @property
    def engines(self) -> t.Mapping[t.Any, sa.Engine]: ...


def _extension(
    db: _Extension, config: dict[str, t.Any], source: object, **view_options: t.Any
) -> SourceSetup:
    apps: list[Flask] = []

    def init_app(app: Flask) -> None:
        app.config.update(config)
        db.init_app(app)
        apps.append(app)

    def engine_for(app: Flask) -> sa.Engine:
        with app.app_context():
            return db.engine

    def dispose() -> None:
        for app in apps:
            with app.app_context():
                for engine in db.engines.values():
                    engine.dispose()

    return SourceSetup(
        source=source,
        init_app=init_app,
        engine_for=engine_for,
        dispose=dispose,
        view_options=view_options,
    )


def _lite(url: str, source: str, **view_options: t.Any) -> SourceSetup:
    assert flask_sqlalchemy_lite is not None, "skipped: see needs_lite"
    db = flask_sqlalchemy_lite.SQLAlchemy()
    sources: dict[str, object] = {
        "db": db,
        "callable": lambda: db.session,
        "none": None,
    }
    config = {"SQLALCHEMY_ENGINES": {"default": url}}
    return _extension(db, config, sources[source], **view_options)


def _fsa(url: str, source: str) -> SourceSetup:
    db = flask_sqlalchemy.SQLAlchemy()
    sources: dict[str, object] = {"db": db, "session": db.session, "none": None}
    return _extension(db, {"SQLALCHEMY_DATABASE_URI": url}, sources[source])


def _plain(url: str, make: cabc.Callable[[sa.Engine], object]) -> SourceSetup:
    engine = sa.create_engine(url)
    source = make(engine)
    return SourceSetup(
        source=source,
        init_app=_nothing,
        engine_for=lambda app: engine,
        dispose=engine.dispose,
        per_request=not isinstance(source, orm.Session),
    )


def _routed_by_hook(url: str) -> SourceSetup:
    """A view whose ``get_session()`` override chooses the database, the way a
    multi-tenant app routes; the constructor's source is a decoy without tables,
    so any code path that bypasses the hook fails."""
    engine = sa.create_engine(url)
    decoy = sa.create_engine(
        "sqlite:///file:decoy?mode=memory&cache=shared&uri=true",
        poolclass=sa.pool.QueuePool,
    )
    routed = resolve_session_source(orm.sessionmaker(engine))

    class RoutedView(ModelView):
        def get_session(self) -> orm.Session:
            return routed()

    def dispose() -> None:
        engine.dispose()
        decoy.dispose()

    return SourceSetup(
        source=orm.sessionmaker(decoy),
        init_app=_nothing,
        engine_for=lambda app: engine,
        dispose=dispose,
        view_base=RoutedView,
    )


SOURCES: dict[str, cabc.Callable[[str], SourceSetup]] = {
    "lite-db": lambda url: _lite(url, "db"),
    "lite-named": lambda url: _lite(url, "db", session_name="admin"),
    "lite-callable": lambda url: _lite(url, "callable"),
    "lite-none": lambda url: _lite(url, "none"),
    "fsa-db": lambda url: _fsa(url, "db"),
    "fsa-session": lambda url: _fsa(url, "session"),
    "fsa-none": lambda url: _fsa(url, "none"),
    "scoped_session": lambda url: _plain(
        url, lambda engine: orm.scoped_session(orm.sessionmaker(engine))
    ),
    "sessionmaker": lambda url: _plain(url, orm.sessionmaker),
    "engine": lambda url: _plain(url, lambda engine: engine),
    "get_session-override": _routed_by_hook,
}
"""The per-request sources, by test id."""

SOURCE_PARAMS = [
    lite_param(name, id=name) if name.startswith("lite-") else name
    for name in sorted(SOURCES)
]
"""The ids of :data:`SOURCES` to parametrise over; those of Flask-SQLAlchemy-Lite
are skipped where it is not installed (it needs SQLAlchemy 2.0)."""


def _fsa_function(url: str) -> SourceSetup:
    """``lambda: db.session``: a function returning Flask-SQLAlchemy's
    ``scoped_session``, the form users write first."""
    db = flask_sqlalchemy.SQLAlchemy()
    return _extension(db, {"SQLALCHEMY_DATABASE_URI": url}, lambda: db.session)


def _returning(value: object) -> cabc.Callable[[], object]:
    """A session function that returns ``value``."""
    return lambda: value


REGISTRY_FUNCTIONS: dict[str, cabc.Callable[[str], SourceSetup]] = {
    "fsa-function": _fsa_function,
    "scoped_session-function": lambda url: _plain(
        url, lambda engine: _returning(orm.scoped_session(orm.sessionmaker(engine)))
    ),
}
"""Functions that return a ``scoped_session`` rather than a session, by test id:
each is resolved to the registry's session, ended as the registry's would be."""


def shared_session(url: str) -> SourceSetup:
    """A plain ``Session`` instance: one session for every request (legacy)."""
    return _plain(url, lambda engine: orm.Session(engine))


def create_tables(engine: sa.Engine) -> None:
    """Create the test models' tables."""
    Base.metadata.create_all(engine)


@contextlib.contextmanager
def without_lite_installed() -> cabc.Iterator[None]:
    """Stock Flask-Admin refuses a non-``db`` source when Flask-SQLAlchemy-Lite
    is installed; without it, it only warns and stores the source."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stock_compat, "T_SQLALCHEMY_LITE", None)
        yield


def app_context_id() -> int:
    """The scope function of the workaround from flask-admin #2585."""
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


RELEASED_BY_VIEW: dict[str, cabc.Callable[[str], SourceSetup]] = {
    "sessionmaker": SOURCES["sessionmaker"],
    "engine": SOURCES["engine"],
    "scoped_session": SOURCES["scoped_session"],
    "shared-session": shared_session,
    "scoped_session-function": REGISTRY_FUNCTIONS["scoped_session-function"],
    "get_session-override": SOURCES["get_session-override"],
}
"""The sources whose sessions the view itself releases, by test id."""
