"""Views are built and registered with no application context and no session."""

from __future__ import annotations

import contextlib
import pathlib
import typing as t
import warnings

import flask_sqlalchemy
import pytest
import sqlalchemy as sa
from flask_admin.contrib.sqla import view as stock_view

from flask_admin.contrib.sqla_lite import ModelView

from ..optional import flask_sqlalchemy_lite
from ..optional import HAS_LITE
from ..optional import needs_lite
from . import factory_app
from .admin_app import build_views
from .models import Team
from .sources import create_tables
from .sources import SOURCE_PARAMS
from .sources import SOURCES
from .sources import SourceSetup


def test_two_factory_apps_share_one_view_module(tmp_path: pathlib.Path) -> None:
    """Views created at import time serve two apps, each from its own database."""
    apps = []

    for name in ("north", "south"):
        engine = sa.create_engine(f"sqlite:///{tmp_path / name}.sqlite3")
        create_tables(engine)

        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO team (name) VALUES (:n)"), {"n": name})

        engine.dispose()
        apps.append(factory_app.create_app(str(engine.url)))

    north, south = (app.test_client().get("/admin/team/") for app in apps)
    assert "north" in north.get_data(as_text=True)
    assert "south" not in north.get_data(as_text=True)
    assert "south" in south.get_data(as_text=True)

    for app in apps:
        factory_app.dispose(app)


@needs_lite
def test_stock_view_fails_with_lite_outside_app_context() -> None:
    """The problem this package solves: stock Flask-Admin touches Lite's session
    when the view is built, which needs an application context."""
    with pytest.raises(RuntimeError, match="application context"):
        stock_view.ModelView(Team, flask_sqlalchemy_lite.SQLAlchemy())


def test_stock_view_refuses_a_sessionmaker() -> None:
    """Stock Flask-Admin refuses a sessionmaker (where Flask-SQLAlchemy-Lite is
    not installed, it only deprecates it); ours accepts it."""
    stock_refuses: contextlib.AbstractContextManager[object] = (
        pytest.raises(TypeError, match="Passing a session object directly")
        if HAS_LITE
        else pytest.warns(DeprecationWarning, match="Passing a session object directly")
    )

    with stock_refuses:
        stock_view.ModelView(Team, sa.orm.sessionmaker())

    assert ModelView(Team, sa.orm.sessionmaker()).session_source.kind == "sessionmaker"


@pytest.mark.parametrize("source_id", SOURCE_PARAMS)
def test_no_warning_for_accepted_sources(source_id: str, db_url: str) -> None:
    """Building views over any per-request source warns about nothing."""
    setup: SourceSetup = SOURCES[source_id](db_url)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_views(setup.source, setup.view_base, **setup.view_options)

    setup.dispose()


def test_stock_view_warns_for_flask_sqlalchemy_session() -> None:
    """Stock Flask-Admin deprecates ``db.session``, which ours takes silently."""
    db = flask_sqlalchemy.SQLAlchemy()

    with pytest.warns(DeprecationWarning, match="Passing a session object directly"):
        stock_view.ModelView(Team, db.session)

    assert ModelView(Team, db.session).session_source.kind == "flask-sqlalchemy"


def test_scoped_session_over_any_factory(db_url: str) -> None:
    """A ``scoped_session`` whose factory is a plain function, not a
    ``sessionmaker``, is accepted as a ``scoped_session``."""
    engine = sa.create_engine(db_url)
    # SQLAlchemy's annotations ask for a sessionmaker; any callable works.
    factory: t.Any = lambda: sa.orm.Session(engine)  # noqa: E731
    scoped = sa.orm.scoped_session(factory)
    view = ModelView(Team, scoped)
    assert view.session_source.kind == "scoped_session"
    engine.dispose()
