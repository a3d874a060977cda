"""The admin apps compared: the same views over each kind of session source.

Every app has its own engine on the same database. Our views are built the
way users build them, at import time outside any application context; stock
Flask-Admin cannot build a view on a Flask-SQLAlchemy-Lite ``db`` that way, so
its Lite views are built inside one, as upstream's own tests do.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import typing as t
import warnings

import flask_sqlalchemy
import flask_sqlalchemy_lite
import sqlalchemy as sa
from flask import Flask
from flask.globals import app_ctx
from flask_admin.contrib.sqla import view as stock_view
from sqlalchemy import orm

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView
from tests.sqla.models import Person
from tests.sqla.models import Team

try:
    from flask_babel import Babel
except ImportError:  # pragma: no cover - Flask-Admin needs Babel only if installed
    Babel = None

AnyModelView: t.TypeAlias = t.Any
"""A stock or our ``ModelView``: Flask-Admin has no type information."""

PAGES: dict[str, str] = {
    "list": "/admin/person/",
    "details": "/admin/person/details/?id=1",
    "edit": "/admin/person/edit/?id=1",
    "ajax": "/admin/person/ajax/lookup/?name=team&query=Team+1",
    "export": "/admin/person/export/csv/",
}
"""The pages measured, by name: each reads the database."""

SAVE_PAGE = PAGES["edit"]
"""Where the edit form is posted."""

SAVE_FORM: dict[str, str] = {"name": "Person 000", "score": "0", "team": "1"}
"""The first person's own values: each save writes the same row again."""


def request_page(client: t.Any, page: str) -> None:
    """Request ``page`` of :data:`PAGES`, or post the edit form for ``"save"``;
    raise unless it answered as expected."""
    if page == "save":
        response = client.post(SAVE_PAGE, data=SAVE_FORM)
        expected = 302
    else:
        response = client.get(PAGES[page])
        expected = 200

    response.close()

    if response.status_code != expected:
        raise RuntimeError(f"{page}: {response.status}, expected {expected}")


NO_DATABASE_PAGE = "/admin/"
"""The admin index: renders the menu and touches no database."""

WORKAROUND_POOL_TIMEOUT = 0.01
"""Seconds the workaround's requests wait for a connection once its leaks have
exhausted the pool, instead of the default 30."""


class PersonAdmin:
    """A list of 50 people with their team, details, a CSV export, and a form
    with an ajax team field."""

    can_export = True
    column_list = ["name", "score", "team"]
    page_size = 50
    can_view_details = True
    form_columns = ["name", "score", "team"]
    form_ajax_refs = {"team": {"fields": ["name"]}}
    # These benchmarks measure resolving the session; the concurrent edit check,
    # which stock Flask-Admin does not have, is measured by benchmarks.statements.
    concurrency_check = False


class TeamAdmin:
    """A team list and form."""

    form_columns = ["name"]
    concurrency_check = False


@dataclasses.dataclass
class BenchApp:
    """One admin app and what the benchmarks inspect in it."""

    app: Flask
    """The app, with an admin over the person and team views."""

    engine: sa.Engine
    """The engine the views' sessions use."""

    person_view: AnyModelView
    """The person view."""

    dispose: cabc.Callable[[], None]
    """Closes what the app left open and disposes its engines."""


class Build(t.Protocol):
    """Builds an app on a database URL."""

    def __call__(self, url: str, views: int = 2) -> BenchApp:
        """:param views: How many views the admin has: the person view, then
        team views."""
        ...


@dataclasses.dataclass(frozen=True)
class Variant:
    """A way of giving the views their session."""

    name: str
    """Short id used in tables and on the command line."""

    label: str
    """What the app passes, as users write it."""

    build: Build
    """Builds the app."""

    baseline: str | None = None
    """For our views: the stock variant on the same extension, whose time is the
    cost of everything but our view."""

    target: float | None = None
    """For our views: the largest acceptable time ratio to :attr:`baseline`."""


def _views(source: object, base: type[AnyModelView], count: int) -> list[AnyModelView]:
    def view(options: type, model: type, endpoint: str) -> AnyModelView:
        view_class = type(f"{options.__name__}View", (options, base), {})
        return view_class(model, source, endpoint=endpoint)

    teams = [f"team{i}" if i else "team" for i in range(count - 1)]
    return [
        view(PersonAdmin, Person, "person"),
        *(view(TeamAdmin, Team, endpoint) for endpoint in teams),
    ]


def _app(config: dict[str, t.Any], extension: t.Any = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench", WTF_CSRF_ENABLED=False, **config)

    if Babel is not None:
        Babel(app)

    if extension is not None:
        extension.init_app(app)

    Admin(app)
    return app


def _bench(
    app: Flask,
    views: list[AnyModelView],
    engines: list[sa.Engine],
    *,
    before_dispose: cabc.Callable[[], None] | None = None,
) -> BenchApp:
    admin: t.Any = app.extensions["admin"][0]

    for view in views:
        admin.add_view(view)

    def dispose() -> None:
        if before_dispose is not None:
            before_dispose()

        for engine in engines:
            engine.dispose()

    return BenchApp(app, engines[0], views[0], dispose)


def _engines_of(app: Flask, db: t.Any) -> list[sa.Engine]:
    with app.app_context():
        return list(db.engines.values())


def _fsa(url: str, views_count: int, base: type[AnyModelView]) -> BenchApp:
    db = flask_sqlalchemy.SQLAlchemy()
    views = _views(db, base, views_count)
    app = _app({"SQLALCHEMY_DATABASE_URI": url}, db)
    return _bench(app, views, _engines_of(app, db))


def _lite_app(url: str, **engine_options: t.Any) -> tuple[Flask, t.Any]:
    db = flask_sqlalchemy_lite.SQLAlchemy()
    engine = {"url": url, **engine_options}
    return _app({"SQLALCHEMY_ENGINES": {"default": engine}}, db), db


def _lite(url: str, views: int, source_of: cabc.Callable[[t.Any], object]) -> BenchApp:
    app, db = _lite_app(url)
    return _bench(app, _views(source_of(db), ModelView, views), _engines_of(app, db))


def _stock_lite(url: str, views: int = 2) -> BenchApp:
    app, db = _lite_app(url)

    with app.app_context():
        admin_views = _views(db, stock_view.ModelView, views)

    return _bench(app, admin_views, _engines_of(app, db))


def _lite_callable(db: t.Any) -> cabc.Callable[[], orm.Session]:
    def get_session() -> orm.Session:
        session: orm.Session = db.session
        return session

    return get_session


def _sessionmaker(url: str, views: int = 2) -> BenchApp:
    engine = sa.create_engine(url)
    source = orm.sessionmaker(engine)
    return _bench(_app({}), _views(source, ModelView, views), [engine])


def _app_ctx_id() -> int:
    """The scope of the upstream workaround: the current app context's id."""
    return id(t.cast(t.Any, app_ctx)._get_current_object())


def _workaround(url: str, views: int = 2) -> BenchApp:
    """Flask-Admin issue #2585's workaround: a ``scoped_session`` over the Lite
    ``db.sessionmaker``, scoped by app context id and never removed."""
    app, db = _lite_app(url, pool_timeout=WORKAROUND_POOL_TIMEOUT)

    with app.app_context():
        scoped = orm.scoped_session(db.sessionmaker, scopefunc=_app_ctx_id)

    with warnings.catch_warnings():
        # Stock Flask-Admin deprecates passing a session object.
        warnings.simplefilter("ignore", DeprecationWarning)
        admin_views = _views(scoped, stock_view.ModelView, views)

    def close_leaked() -> None:
        for session in scoped.registry.registry.values():
            session.close()

    return _bench(app, admin_views, _engines_of(app, db), before_dispose=close_leaked)


REFERENCE = Variant(
    "stock-fsa",
    "stock ``ModelView(Person, db)``, Flask-SQLAlchemy",
    lambda url, views=2: _fsa(url, views, stock_view.ModelView),
)
"""Stock Flask-Admin with a Flask-SQLAlchemy ``db``: the reference."""

STOCK_LITE = Variant(
    "stock-lite",
    "stock ``ModelView(Person, db)``, Flask-SQLAlchemy-Lite, built in an app context",
    _stock_lite,
)
"""Stock Flask-Admin with a Flask-SQLAlchemy-Lite ``db``."""

OUR_LABELS: dict[str, str] = {
    "fsa": "``ModelView(Person, db)``, Flask-SQLAlchemy",
    "lite": "``ModelView(Person, db)``, Flask-SQLAlchemy-Lite",
    "callable": "``ModelView(Person, get_session)``, returning the Lite ``db.session``",
    "sessionmaker": "``ModelView(Person, sessionmaker(engine))``",
}
"""What each of our variants passes, by name."""


def _ours(name: str, build: Build, baseline: Variant, target: float) -> Variant:
    return Variant(name, OUR_LABELS[name], build, baseline.name, target)


OURS: tuple[Variant, ...] = (
    _ours("fsa", lambda url, views=2: _fsa(url, views, ModelView), REFERENCE, 1.01),
    _ours(
        "lite", lambda url, views=2: _lite(url, views, lambda db: db), STOCK_LITE, 1.01
    ),
    _ours(
        "callable",
        lambda url, views=2: _lite(url, views, _lite_callable),
        STOCK_LITE,
        1.01,
    ),
    _ours("sessionmaker", _sessionmaker, REFERENCE, 1.03),
)
"""Our view with each kind of source."""

WORKAROUND = Variant(
    "workaround",
    "stock ``ModelView(Person, scoped_session(db.sessionmaker, scopefunc=<app"
    " ctx id>))``, Flask-SQLAlchemy-Lite (issue #2585)",
    _workaround,
)
"""The workaround from Flask-Admin issue #2585."""

COMPARED: tuple[Variant, ...] = (REFERENCE, STOCK_LITE, *OURS)
"""The variants timed side by side, the reference first."""

BY_NAME: dict[str, Variant] = {v.name: v for v in (*COMPARED, WORKAROUND)}
"""Every variant by name."""
