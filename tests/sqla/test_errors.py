"""Wrong input fails early with a message that names it and says what to pass."""

from __future__ import annotations

import functools
import typing as t

import flask_sqlalchemy_lite
import pytest
import sqlalchemy as sa
from flask import Flask
from flask import views
from sqlalchemy import orm
from sqlalchemy.ext import asyncio as sa_async

from flask_admin import expose_plugview
from flask_admin.contrib.sqla_lite import ModelView

from .admin_app import build_app
from .admin_app import build_views
from .models import Person
from .models import Team
from .sources import SourceSetup

ASYNC_URL = "postgresql+psycopg://nobody@127.0.0.1:9/never"
"""Async engines are built but never connected."""


async def async_get_session() -> orm.Session:
    """A coroutine function, which Flask-Admin cannot await."""
    raise AssertionError("never called")


def needs_an_argument(tenant: str) -> orm.Session:
    """A session function that cannot be called without arguments."""
    raise AssertionError("never called")


def async_sources() -> dict[str, object]:
    """Each async form of a session source, by name."""
    engine = sa_async.create_async_engine(ASYNC_URL)
    # SQLAlchemy 1.4's spelling of an async session factory.
    maker = orm.sessionmaker(class_=sa_async.AsyncSession)
    return {
        "AsyncEngine": engine,
        "sessionmaker-of-AsyncSession": maker,
        "scoped_session-of-AsyncSession": orm.scoped_session(maker),
        "AsyncSession": sa_async.AsyncSession(engine),
        "async_scoped_session": sa_async.async_scoped_session(
            t.cast(t.Any, maker),  # typed for 2.0's async_sessionmaker
            scopefunc=lambda: 1,
        ),
        "coroutine-function": async_get_session,
        **(
            {"async_sessionmaker": sa_async.async_sessionmaker(engine)}
            if hasattr(sa_async, "async_sessionmaker")
            else {}
        ),
    }


@pytest.mark.parametrize(
    "name",
    (
        "AsyncEngine",
        "sessionmaker-of-AsyncSession",
        "scoped_session-of-AsyncSession",
        "AsyncSession",
        "async_scoped_session",
        "coroutine-function",
        pytest.param(
            "async_sessionmaker",
            marks=pytest.mark.skipif(
                not hasattr(sa_async, "async_sessionmaker"),
                reason="SQLAlchemy 1.4 has no async_sessionmaker",
            ),
        ),
    ),
)
def test_async_sources_are_refused(name: str) -> None:
    """Every async form is refused at construction, with the sync equivalent."""
    source = async_sources()[name]

    with pytest.raises(TypeError, match="synchronous and cannot use the async"):
        ModelView(Team, source)


@pytest.mark.parametrize(
    ("source", "phrase"),
    (
        (orm.Session, "Received the class Session.*Pass 'sessionmaker\\(engine\\)'"),
        (dict, "Received the class dict"),
        ("sqlite:///app.db", r"Cannot use 'sqlite:///app.db' \(str\)"),
        (42, r"Cannot use 42 \(int\)"),
        (1.5, r"Cannot use 1.5 \(float\)"),
        (object(), r"Cannot use <object object .*> \(object\)"),
        ([], r"Cannot use \[\] \(list\)"),
        (needs_an_argument, "must be callable without arguments"),
    ),
    ids=(
        "Session-class",
        "other-class",
        "str",
        "int",
        "float",
        "object",
        "list",
        "args",
    ),
)
def test_wrong_sources_are_refused(source: object, phrase: str) -> None:
    """Anything that cannot give a session is refused at construction."""
    with pytest.raises(TypeError, match=phrase) as info:
        ModelView(Team, source)

    assert "Pass" in str(info.value) or "arguments" in str(info.value)


def test_session_name_needs_a_lite_source() -> None:
    """A session name with a source other than Flask-SQLAlchemy-Lite is refused."""
    with pytest.raises(TypeError, match="'session_name='admin'' selects a Flask"):
        ModelView(Team, orm.sessionmaker(), session_name="admin")


def app_with_source(source: object, db_url: str, view_base: type = ModelView) -> Flask:
    """An app in testing mode, so errors propagate out of the test client."""
    engine = sa.create_engine(db_url)
    setup = SourceSetup(source, lambda app: None, lambda app: engine, engine.dispose)
    app = build_app(setup, build_views(source, view_base))
    app.testing = True
    engine.dispose()
    return app


@pytest.mark.parametrize(
    ("returned", "phrase"),
    (
        ("not a session", "returned builtins.str, not a 'sqlalchemy.orm.Session'"),
        (
            orm.scoped_session(orm.sessionmaker()),
            "returned sqlalchemy.orm.scoping.scoped_session.*return 'scoped\\(\\)'",
        ),
    ),
    ids=("str", "scoped_session"),
)
def test_callable_returning_no_session(
    returned: object, phrase: str, db_url: str
) -> None:
    """A function returning something else fails at request time, naming the
    function and the type it returned."""
    client = app_with_source(lambda: returned, db_url).test_client()

    with pytest.raises(TypeError, match=f"session function .*<lambda>\\(\\) {phrase}"):
        client.get("/admin/person/")


def test_override_returning_no_session(db_url: str) -> None:
    """An overridden ``get_session()`` returning something else names the view."""

    class WrongView(ModelView):
        def get_session(self) -> t.Any:
            return 42

    client = app_with_source(orm.sessionmaker(), db_url, WrongView).test_client()

    with pytest.raises(
        TypeError, match=r"PersonView\(Person\).get_session\(\) returned builtins.int"
    ):
        client.get("/admin/person/")


@pytest.mark.parametrize(
    "error",
    (LookupError("tenant not found"), TypeError("tenant id must be an int")),
    ids=("LookupError", "TypeError"),
)
def test_exception_from_session_function_propagates(
    error: Exception, db_url: str
) -> None:
    """An exception raised by the user's function reaches the caller unchanged,
    a ``TypeError`` included (Flask-Admin would otherwise retry the view)."""

    def get_session() -> orm.Session:
        raise error

    client = app_with_source(get_session, db_url).test_client()

    with pytest.raises(type(error)) as info:
        client.get("/admin/person/")

    assert info.value is error


def test_no_extension_for_an_omitted_source(db_url: str) -> None:
    """An omitted source on an app without a SQLAlchemy extension says what to do."""
    client = app_with_source(None, db_url).test_client()

    with pytest.raises(
        RuntimeError,
        match=r"has no Flask-SQLAlchemy-Lite or .* Call 'db.init_app\(app\)'",
    ):
        client.get("/admin/person/")


def test_lite_with_only_async_engines() -> None:
    """A Flask-SQLAlchemy-Lite extension with only async engines is explained."""
    db = flask_sqlalchemy_lite.SQLAlchemy()
    views = build_views(db)

    def init_app(app: Flask) -> None:
        app.config["SQLALCHEMY_ASYNC_ENGINES"] = {"default": ASYNC_URL}
        db.init_app(app)

    app = build_app(
        SourceSetup(db, init_app, lambda app: db.engine, lambda: None), views
    )
    app.testing = True

    with pytest.raises(RuntimeError, match="only has async engines"):
        app.test_client().get("/admin/person/")


def test_get_session_outside_an_app_context() -> None:
    """Asking for the session with no application context says how to get one."""
    view = ModelView(Team, orm.sessionmaker())

    with pytest.raises(
        RuntimeError, match=r"needs an application context.*app_context"
    ):
        view.get_session()


def counted(calls: list[str]) -> t.Callable[[t.Any], t.Any]:
    """A view decorator, the ``*args, **kwargs`` kind, that records each call."""

    def decorator(view: t.Any) -> t.Any:
        @functools.wraps(view)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            calls.append(view.__name__)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def test_decorated_pluggable_view_still_runs(db_url: str) -> None:
    """A ``flask.views.View`` exposed with ``expose_plugview`` and wrapped in
    ``decorators`` runs once, with the admin view as ``cls``, although a
    ``TypeError`` inside a view function is no longer retried."""
    calls: list[str] = []

    class ReportView(ModelView):
        @expose_plugview("/report/")
        class Report(views.View):
            decorators = [counted(calls)]

            def dispatch_request(self, **kwargs: t.Any) -> str:
                view: ModelView = kwargs["cls"]
                count = view.session.scalar(sa.select(sa.func.count(Person.id)))
                return f"{view.endpoint}: {count} people"

    engine = sa.create_engine(db_url)
    app = app_with_source(orm.sessionmaker(engine), db_url, ReportView)
    response = app.test_client().get("/admin/person/report/")
    engine.dispose()
    assert response.get_data(as_text=True) == "person: 0 people"
    assert calls == ["Report"]
