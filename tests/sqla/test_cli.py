"""``flask admin-sessions`` classifies every view's session source, stock and ours."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import importlib.metadata
import json
import pathlib
import subprocess
import sys
import typing as t

import click
import flask_sqlalchemy
import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask import has_app_context
from flask import has_request_context
from flask.globals import app_ctx
from flask_admin.contrib.sqla import view as stock_view
from sqlalchemy import orm
from sqlalchemy.ext import asyncio as sa_async

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import _cli as cli_module
from flask_admin.contrib.sqla_lite import ModelView
from flask_admin.contrib.sqla_lite import SharedSessionWarning
from flask_admin.contrib.sqla_lite._cli import admin_sessions

from ..optional import flask_sqlalchemy_lite
from ..optional import HAS_LITE
from ..optional import LITE_MISSING
from ..optional import lite_param
from ..optional import needs_lite
from .models import Team
from .sources import app_context_id
from .sources import create_tables
from .sources import without_lite_installed

try:
    from flask_babel import Babel
except ImportError:  # pragma: no cover - Flask-Admin needs Babel only if installed
    Babel = None

Extension = t.Literal["lite", "fsa", "none"]
AnyModelView: t.TypeAlias = t.Any
"""A stock or our ``ModelView``: Flask-Admin has no type information."""


@dataclasses.dataclass
class Env:
    """The session sources the views are built from, on one SQLite file."""

    lite: t.Any
    """The Flask-SQLAlchemy-Lite extension; ``None`` when it is not installed."""
    fsa: flask_sqlalchemy.SQLAlchemy
    engine: sa.Engine
    url: str
    apps: list[Flask] = dataclasses.field(default_factory=list)

    def app(self, extension: Extension) -> Flask:
        """A new app with the extension registered and Babel, but no admin."""
        app = Flask(__name__)
        app.config.update(
            SQLALCHEMY_ENGINES={"default": self.url}, SQLALCHEMY_DATABASE_URI=self.url
        )

        if getattr(self, extension, None) is not None:
            getattr(self, extension).init_app(app)

        if Babel is not None:
            Babel(app)

        self.apps.append(app)
        return app

    def engines(self) -> list[sa.Engine]:
        """Every engine of every app, and the plain one."""
        engines = [self.engine]

        for app in self.apps:
            if "sqlalchemy" in app.extensions:
                with app.app_context():
                    engines.extend(app.extensions["sqlalchemy"].engines.values())

        return engines


class RoutedView(ModelView):
    """A view whose ``get_session()`` override chooses the session."""

    def get_session(self) -> orm.Session:
        return orm.Session()


def stock(endpoint: str, source: object) -> AnyModelView:
    """A stock view over ``source``, which stock Flask-Admin deprecates."""
    with (
        without_lite_installed(),
        pytest.warns(DeprecationWarning, match="Passing a session object"),
    ):
        return stock_view.ModelView(Team, source, endpoint=endpoint)


def stock_lite(env: Env, app: Flask) -> AnyModelView:
    """A stock view over a Flask-SQLAlchemy-Lite ``db``: it can only be built
    inside an app context."""
    with app.app_context():
        return stock_view.ModelView(Team, env.lite, endpoint="stock_lite")


def issue_2585(env: Env, app: Flask) -> orm.scoped_session[orm.Session]:
    """``scoped_session(db.sessionmaker, scopefunc=<app context id>)``, the
    workaround from flask-admin #2585, which reads ``db.sessionmaker`` in an app
    context."""
    if env.lite is None:
        return orm.scoped_session(
            orm.sessionmaker(env.engine), scopefunc=app_context_id
        )

    with app.app_context():
        factory = env.lite.sessionmaker

    return orm.scoped_session(factory, scopefunc=app_context_id)


async def async_session_function() -> sa_async.AsyncSession:
    """An ``async def`` session function (never awaited here)."""
    return sa_async.AsyncSession()


def shared(env: Env, app: Flask) -> ModelView:
    """Our view over one ``Session``, which warns at registration."""
    with pytest.warns(SharedSessionWarning):
        return ModelView(Team, orm.Session(env.engine), endpoint="shared")


LITE_SKIP = None if HAS_LITE else LITE_MISSING
"""Why the views over a Flask-SQLAlchemy-Lite ``db`` are skipped, if they are."""

ASYNC_SESSIONMAKER_SKIP = (
    None
    if hasattr(sa_async, "async_sessionmaker")
    else "SQLAlchemy 1.4 has no async_sessionmaker"
)
"""Why the view over an ``async_sessionmaker`` is skipped, if it is."""


@dataclasses.dataclass(frozen=True)
class Case:
    """A view on an app with ``extension``, and the row expected for it."""

    extension: Extension
    build: cabc.Callable[[Env, Flask], AnyModelView]
    stock: bool
    source: str
    scope: str
    status: str
    says: str | None = None
    """A phrase of the row's warning, or ``None`` for no warning."""
    skip: str | None = None
    """Why this version set cannot build the view, or ``None``."""


def ours(
    endpoint: str, source: cabc.Callable[[Env], object], **options: t.Any
) -> cabc.Callable[[Env, Flask], ModelView]:
    """A builder of our view over the source that ``source`` picks from ``env``."""

    def build(env: Env, app: Flask) -> ModelView:
        return ModelView(Team, source(env), endpoint=endpoint, **options)

    return build


CASES: dict[str, Case] = {
    "lite_db": Case(
        "lite",
        ours("lite_db", lambda env: env.lite),
        False,
        "flask-sqlalchemy-lite",
        "request",
        "ok",
        skip=LITE_SKIP,
    ),
    "lite_named": Case(
        "lite",
        ours("lite_named", lambda env: env.lite, session_name="admin"),
        False,
        "flask-sqlalchemy-lite",
        "request",
        "ok",
        skip=LITE_SKIP,
    ),
    "lite_callable": Case(
        "lite",
        ours("lite_callable", lambda env: lambda: env.lite.session),
        False,
        "callable",
        "request",
        "ok",
        skip=LITE_SKIP,
    ),
    "lite_none": Case(
        "lite",
        ours("lite_none", lambda env: None),
        False,
        "app-extension",
        "request",
        "ok",
        skip=LITE_SKIP,
    ),
    "scoped_session": Case(
        "lite",
        ours(
            "scoped_session",
            lambda env: orm.scoped_session(orm.sessionmaker(env.engine)),
        ),
        False,
        "scoped_session",
        "request",
        "ok",
    ),
    "scoped_scopefunc": Case(
        "lite",
        lambda env, app: ModelView(
            Team, issue_2585(env, app), endpoint="scoped_scopefunc"
        ),
        False,
        "scoped_session",
        "request",
        "ok",
    ),
    "sessionmaker": Case(
        "lite",
        ours("sessionmaker", lambda env: orm.sessionmaker(env.engine)),
        False,
        "sessionmaker",
        "request",
        "ok",
    ),
    "engine": Case(
        "lite", ours("engine", lambda env: env.engine), False, "engine", "request", "ok"
    ),
    "get_session": Case(
        "lite",
        lambda env, app: RoutedView(Team, endpoint="get_session"),
        False,
        "get_session",
        "request",
        "ok",
    ),
    "fsa_db": Case(
        "fsa",
        ours("fsa_db", lambda env: env.fsa),
        False,
        "flask-sqlalchemy",
        "request",
        "ok",
    ),
    "fsa_session": Case(
        "fsa",
        ours("fsa_session", lambda env: env.fsa.session),
        False,
        "flask-sqlalchemy",
        "request",
        "ok",
    ),
    "fsa_none": Case(
        "fsa",
        ours("fsa_none", lambda env: None),
        False,
        "app-extension",
        "request",
        "ok",
    ),
    "fsa_callable": Case(
        "fsa",
        ours("fsa_callable", lambda env: lambda: env.fsa.session),
        False,
        "callable",
        "request",
        "ok",
    ),
    "stock_fsa_db": Case(
        "fsa",
        lambda env, app: stock_view.ModelView(Team, env.fsa, endpoint="stock_fsa_db"),
        True,
        "flask-sqlalchemy",
        "request",
        "ok",
    ),
    "stock_fsa_session": Case(
        "fsa",
        lambda env, app: stock("stock_fsa_session", env.fsa.session),
        True,
        "flask-sqlalchemy",
        "request",
        "ok",
    ),
    "fsa_none_named": Case(
        "fsa",
        ours("fsa_none_named", lambda env: None, session_name="admin"),
        False,
        "app-extension",
        "none",
        "broken",
        "selects a Flask-SQLAlchemy-Lite session",
    ),
    "shared": Case(
        "none", shared, False, "session", "app", "app-lifetime", "shared by every"
    ),
    "stock_lite": Case(
        "lite",
        stock_lite,
        True,
        "flask-sqlalchemy-lite",
        "request",
        "fragile",
        "Working outside of application context",
        skip=LITE_SKIP,
    ),
    "stock_scoped_session": Case(
        "none",
        lambda env, app: stock(
            "stock_scoped_session", orm.scoped_session(orm.sessionmaker(env.engine))
        ),
        True,
        "scoped_session",
        "thread",
        "app-lifetime",
        "idle in transaction",
    ),
    "stock_scoped_scopefunc": Case(
        "lite",
        lambda env, app: stock("stock_scoped_scopefunc", issue_2585(env, app)),
        True,
        "scoped_session",
        "key",
        "app-lifetime",
        "it leaks a session per request",
    ),
    "stock_shared": Case(
        "none",
        lambda env, app: stock("stock_shared", orm.Session(env.engine)),
        True,
        "session",
        "app",
        "app-lifetime",
        "shared by every",
    ),
    "stock_sessionmaker": Case(
        "none",
        lambda env, app: stock("stock_sessionmaker", orm.sessionmaker(env.engine)),
        True,
        "sessionmaker",
        "none",
        "broken",
        "the 'sessionmaker' it was given has no such method",
    ),
    "stock_engine": Case(
        "none",
        lambda env, app: stock("stock_engine", env.engine),
        True,
        "engine",
        "none",
        "broken",
        "the 'engine' it was given has no such method",
    ),
    "stock_callable": Case(
        "none",
        lambda env, app: stock("stock_callable", lambda: orm.Session(env.engine)),
        True,
        "callable",
        "none",
        "broken",
        "the 'callable' it was given has no such method",
    ),
    "stock_async_sessionmaker": Case(
        "none",
        lambda env, app: stock(
            "stock_async_sessionmaker", sa_async.async_sessionmaker()
        ),
        True,
        "async",
        "none",
        "broken",
        "calls '.query()' on the async_sessionmaker",
        skip=ASYNC_SESSIONMAKER_SKIP,
    ),
    "stock_async_sessionmaker_class": Case(
        "none",
        lambda env, app: stock(
            "stock_async_sessionmaker_class",
            orm.sessionmaker(class_=sa_async.AsyncSession),
        ),
        True,
        "async",
        "none",
        "broken",
        "calls '.query()' on the sessionmaker",
    ),
    "stock_async_session": Case(
        "none",
        lambda env, app: stock("stock_async_session", sa_async.AsyncSession()),
        True,
        "async",
        "none",
        "broken",
        "calls '.query()' on the AsyncSession",
    ),
    "stock_async_scoped_session": Case(
        "none",
        lambda env, app: stock(
            "stock_async_scoped_session",
            sa_async.async_scoped_session(
                t.cast(t.Any, orm.sessionmaker(class_=sa_async.AsyncSession)),
                scopefunc=app_context_id,
            ),
        ),
        True,
        "async",
        "none",
        "broken",
        "calls '.query()' on the async_scoped_session",
        skip=None
        if hasattr(sa_async, "async_scoped_session")
        else "SQLAlchemy 1.4 before 1.4.19 has no async_scoped_session",
    ),
    "stock_async_function": Case(
        "none",
        lambda env, app: stock("stock_async_function", async_session_function),
        True,
        "async",
        "none",
        "broken",
        "the coroutine function async_session_function()",
    ),
    "stock_none": Case(
        "none",
        lambda env, app: stock("stock_none", None),
        True,
        "none",
        "none",
        "broken",
        "given no session",
    ),
    "stock_string": Case(
        "none",
        lambda env, app: stock("stock_string", "sqlite://"),
        True,
        "unknown",
        "none",
        "broken",
        "Cannot use the database URL 'sqlite://' (str) as a session source",
    ),
    "none_without_extension": Case(
        "none",
        ours("none_without_extension", lambda env: None),
        False,
        "none",
        "none",
        "broken",
        "has no Flask-SQLAlchemy-Lite or Flask-SQLAlchemy extension",
    ),
}
"""One view per source kind, stock and ours, by endpoint. Our view refuses every
async source when it is built (see ``test_errors.py``), so no app can hold one and
there is no row for it."""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> cabc.Iterator[Env]:
    """The sources, on a SQLite file with the test tables; disposes every engine."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.sqlite3'}"
    env = Env(
        flask_sqlalchemy_lite and flask_sqlalchemy_lite.SQLAlchemy(),
        flask_sqlalchemy.SQLAlchemy(),
        sa.create_engine(url),
        url,
    )
    create_tables(env.engine)
    yield env

    for engine in env.engines():
        engine.dispose()


def admin_app(env: Env, extension: Extension, endpoints: list[str]) -> Flask:
    """An app with ``extension`` and one admin over the views of ``endpoints``."""
    app = env.app(extension)
    admin = Admin(app)

    for endpoint in endpoints:
        admin.add_view(CASES[endpoint].build(env, app))

    return app


@pytest.fixture(scope="module")
def apps(env: Env) -> dict[Extension, Flask]:
    """One app per extension, each with an admin over that extension's cases."""
    return {
        extension: admin_app(
            env,
            extension,
            [
                name
                for name, case in CASES.items()
                if case.extension == extension and case.skip is None
            ],
        )
        for extension in t.get_args(Extension)
    }


def run(app: Flask, *args: str, color: bool = False) -> Result:
    """Run ``flask admin-sessions`` on ``app`` through Flask's CLI test runner."""
    return app.test_cli_runner().invoke(admin_sessions, list(args), color=color)


def json_rows(app: Flask) -> dict[str, dict[str, t.Any]]:
    """The command's JSON rows on ``app``, by endpoint."""
    output = json.loads(run(app, "--json").output)
    return {
        row["endpoint"]: row for admin in output["admins"] for row in admin["views"]
    }


def flat(text: str) -> str:
    """``text`` with every run of whitespace as one space, undoing wrapping."""
    return " ".join(text.split())


@pytest.mark.parametrize(
    "endpoint",
    [
        pytest.param(
            name,
            id=name,
            marks=pytest.mark.skipif(case.skip is not None, reason=case.skip or ""),
        )
        for name, case in CASES.items()
    ],
)
def test_classifies_each_source(endpoint: str, apps: dict[Extension, Flask]) -> None:
    """Each view's row names its source, session scope, status and warning."""
    case = CASES[endpoint]
    row = json_rows(apps[case.extension])[endpoint]

    assert (row["stock"], row["source"], row["scope"], row["status"]) == (
        case.stock,
        case.source,
        case.scope,
        case.status,
    )
    assert row["model"] == "Team"

    if case.says is None:
        assert row["warning"] is None
    else:
        assert case.says in row["warning"]


@pytest.mark.parametrize(
    ("endpoint", "closed_by"),
    (
        lite_param("lite_none", "Flask-SQLAlchemy-Lite, at app-context teardown"),
        ("fsa_none", "Flask-SQLAlchemy, at app-context teardown"),
        ("scoped_session", "the view, which calls 'remove()' at app-context teardown"),
        ("stock_scoped_session", "nobody after a request"),
        ("stock_shared", "nothing ends its transaction after a request"),
        (
            "scoped_scopefunc",
            "the view, which calls 'remove()' at app-context teardown",
        ),
        ("stock_scoped_scopefunc", "each key's session lives on"),
        (
            "fsa_callable",
            "the function's owner; for a 'scoped_session' it returns,"
            " Flask-SQLAlchemy (its 'db.session') or else the view",
        ),
    ),
    ids=(
        "lite-none",
        "fsa-none",
        "scoped",
        "stock-scoped",
        "stock-shared",
        "scope-key",
        "stock-scope-key",
        "function-returning-scoped",
    ),
)
def test_names_who_closes_the_session(
    endpoint: str, closed_by: str, apps: dict[Extension, Flask]
) -> None:
    """The row says who ends the session, for ``None`` the extension found."""
    row = json_rows(apps[CASES[endpoint].extension])[endpoint]
    assert closed_by in row["closed_by"]


def test_opens_no_connection(env: Env, apps: dict[Extension, Flask]) -> None:
    """Classifying every view checks no connection out of any pool."""
    checkouts: list[object] = []

    def count(*args: object) -> None:
        checkouts.append(args)

    engines = env.engines()

    for engine in engines:
        sa.event.listen(engine, "checkout", count)

    for app in apps.values():
        for args in ((), ("--json",)):
            assert run(app, *args).exit_code == 0

    for engine in engines:
        sa.event.remove(engine, "checkout", count)

    assert checkouts == []


@pytest.mark.parametrize(
    ("is_stock", "scope", "status"),
    ((True, "key", "app-lifetime"), (False, "request", "ok")),
    ids=("stock", "ours"),
)
def test_reads_scopefunc_without_calling_it(
    env: Env, is_stock: bool, scope: str, status: str
) -> None:
    """A custom ``scopefunc`` is named in the row's description, never called."""
    calls: list[None] = []

    def request_key() -> int:
        calls.append(None)
        return 1

    scoped = orm.scoped_session(orm.sessionmaker(env.engine), scopefunc=request_key)
    app = env.app("none")
    view = (
        stock("keyed", scoped)
        if is_stock
        else ModelView(Team, scoped, endpoint="keyed")
    )
    Admin(app).add_view(view)

    row = json_rows(app)["keyed"]

    assert (row["scope"], row["status"]) == (scope, status)
    assert row["description"].endswith("with scopefunc " + request_key.__qualname__)
    assert calls == []


@pytest.mark.parametrize(
    ("is_stock", "left_open"), ((True, 2), (False, 0)), ids=("stock", "ours")
)
@needs_lite
def test_scope_key_rows_match_requests(
    env: Env, is_stock: bool, left_open: int
) -> None:
    """Served twice, the #2585 workaround leaves a session and a connection per
    request behind with a stock view and none with ours, as their rows say."""
    app = env.app("lite")
    scoped = issue_2585(env, app)
    view = (
        stock("team", scoped) if is_stock else ModelView(Team, scoped, endpoint="team")
    )
    Admin(app).add_view(view)
    row = json_rows(app)["team"]

    with app.app_context():
        pool = env.lite.engine.pool

    assert isinstance(pool, sa.QueuePool)
    client = app.test_client()
    sessions: dict[object, orm.Session] = scoped.registry.registry
    # Each app context is kept, so the next one cannot reuse its id (the key).
    contexts: list[object] = []
    app.before_request(lambda: contexts.append(app_ctx._get_current_object()))  # type: ignore[attr-defined]

    try:
        for _ in range(2):
            assert client.get("/admin/team/").status_code == 200

        assert (len(sessions), pool.checkedout()) == (left_open, left_open)
    finally:
        for session in sessions.values():
            session.close()

    expected = ("key", "app-lifetime") if is_stock else ("request", "ok")
    assert (row["scope"], row["status"]) == expected


def test_ours_removes_keyed_session_without_asking_its_key(env: Env) -> None:
    """Our view removes a ``scoped_session``'s session as the app context ends,
    after the request context, without asking the ``scopefunc`` again there."""
    contexts: list[tuple[bool, bool]] = []

    def key() -> int:
        contexts.append((has_app_context(), has_request_context()))
        return app_context_id()

    scoped = orm.scoped_session(orm.sessionmaker(env.engine), scopefunc=key)
    app = env.app("none")
    Admin(app).add_view(ModelView(Team, scoped, endpoint="team"))

    assert app.test_client().get("/admin/team/").status_code == 200
    assert contexts == [(True, True)]
    assert scoped.registry.registry == {}


@pytest.mark.parametrize(
    ("constant", "one_session"),
    ((False, False), (True, True)),
    ids=("app-context-key", "constant-key"),
)
def test_ours_shares_session_of_constant_key(
    env: Env, constant: bool, one_session: bool
) -> None:
    """Two app contexts open at once get a session each from a key per app
    context, and one between them from a constant key."""
    scopefunc = (lambda: "constant") if constant else app_context_id
    scoped = orm.scoped_session(orm.sessionmaker(env.engine), scopefunc=scopefunc)
    view = ModelView(Team, scoped)
    app = env.app("none")

    with app.app_context():
        outer = view.get_session()

        with app.app_context():
            inner = view.get_session()

    assert (outer is inner) == one_session


@pytest.mark.parametrize(
    ("tty", "columns", "width"),
    ((False, "200", 80), (True, "100", 100)),
    ids=("piped", "terminal"),
)
def test_wraps_details_to_terminal_or_80_columns(
    apps: dict[Extension, Flask],
    monkeypatch: pytest.MonkeyPatch,
    tty: bool,
    columns: str,
    width: int,
) -> None:
    """The lines under a row fit the terminal, and 80 columns when piped
    whatever ``COLUMNS`` says, so piped output is the same everywhere."""
    monkeypatch.setenv("COLUMNS", columns)

    monkeypatch.setattr(cli_module, "_stdout_is_terminal", lambda: tty)
    lines = run(apps["none"]).output.splitlines()
    details = [len(line) for line in lines if line.startswith("      ")]

    assert width - 20 < max(details) <= width


@pytest.mark.parametrize(
    ("endpoint", "exit_code"),
    (
        ("sessionmaker", 0),
        ("stock_fsa_db", 0),
        ("shared", 1),
        ("stock_scoped_session", 1),
        ("scoped_scopefunc", 0),
        ("stock_scoped_scopefunc", 1),
        ("stock_shared", 1),
        lite_param("stock_lite", 1),
        ("none_without_extension", 1),
        ("stock_sessionmaker", 1),
        ("stock_callable", 1),
        ("stock_async_sessionmaker_class", 1),
    ),
    ids=(
        "ok",
        "stock-ok",
        "app-lifetime",
        "stock-thread",
        "scope-key",
        "stock-scope-key",
        "stock-app-lifetime",
        "fragile",
        "broken",
        "stock-broken",
        "stock-callable",
        "stock-async",
    ),
)
def test_check_exit_code(env: Env, endpoint: str, exit_code: int) -> None:
    """``--check`` fails on an app-lifetime, fragile or broken session only."""
    app = admin_app(env, CASES[endpoint].extension, [endpoint])

    assert run(app, "--check").exit_code == exit_code
    assert run(app, "--check", "--json").exit_code == exit_code
    assert run(app).exit_code == 0


def test_table_aligns_columns(apps: dict[Extension, Flask]) -> None:
    """Every row puts its session scope and status under their headers."""
    header, *lines = run(apps["lite"]).output.splitlines()[1:-2]
    rows = [line for line in lines if not line.startswith("      ")]
    session, status = header.index("SESSION"), header.index("STATUS")

    # Without Flask-SQLAlchemy-Lite, its five views (one of them fragile) are not built.
    assert len(rows) == (11 if HAS_LITE else 6)
    assert {row[session:status].rstrip() for row in rows} == {
        "per request",
        "per scope key",
    }
    assert {row[status - 1 :] for row in rows} == {
        " ok",
        " app-lifetime",
        *([" fragile"] if HAS_LITE else []),
    }


@needs_lite
def test_table_shows_closer_and_warning_under_row(apps: dict[Extension, Flask]) -> None:
    """A problem row is followed by who closes the session and the warning."""
    output = flat(run(apps["lite"]).output)

    assert (
        "stock_lite Team stock flask-sqlalchemy-lite per request fragile"
        " closed by: Flask-SQLAlchemy-Lite, at app-context teardown"
        " warning: Stock Flask-Admin reads 'db.session' when the view is built"
    ) in output
    assert output.endswith("11 views, 2 with a problem.")


def test_colour_only_in_a_terminal(apps: dict[Extension, Flask]) -> None:
    """Statuses are coloured for a terminal and plain when piped."""
    assert "\x1b[" not in run(apps["none"]).output
    coloured = run(apps["none"], color=True).output
    assert click.style("app-lifetime", fg="red", bold=True) in coloured
    assert click.style("ok", fg="green") in run(apps["lite"], color=True).output


def test_every_admin_and_only_model_views(env: Env) -> None:
    """Views of every admin are listed; views without a model, such as each
    admin's index view, are not."""
    app = admin_app(env, "lite", ["sessionmaker"])
    Admin(app, name="Extra", url="/extra", endpoint="extra")

    output = json.loads(run(app, "--json").output)

    assert [(a["name"], a["url"]) for a in output["admins"]] == [
        ("Admin", "/admin"),
        ("Extra", "/extra"),
    ]
    assert [row["endpoint"] for row in output["admins"][0]["views"]] == ["sessionmaker"]
    assert output["admins"][1]["views"] == []
    assert "(no SQLAlchemy model views)" in run(app).output


def test_json_counts_problems(apps: dict[Extension, Flask]) -> None:
    """The JSON output counts the rows whose status is not ``ok``."""
    output = json.loads(run(apps["none"], "--json").output)
    statuses = [row["status"] for row in output["admins"][0]["views"]]

    # Each view over an async class that this SQLAlchemy lacks is not built.
    expected = 14 - sum(
        case.skip is not None and case.extension == "none" for case in CASES.values()
    )
    assert output["problems"] == len(statuses) - statuses.count("ok") == expected


def test_app_without_admin(env: Env) -> None:
    """An app with no admin is reported as such and passes ``--check``."""
    result = run(env.app("none"), "--check")

    assert result.exit_code == 0
    assert "No Flask-Admin 'Admin' is registered on the app" in result.output


def test_registered_as_flask_command(tmp_path: pathlib.Path) -> None:
    """The ``flask.commands`` entry point puts the command in ``flask --help``
    and runs it on a real app."""
    (entry_point,) = (
        ep
        for ep in importlib.metadata.entry_points(group="flask.commands")
        if ep.name == "admin-sessions"
    )
    assert entry_point.load() is admin_sessions

    url = f"sqlite:///{tmp_path / 'factory.sqlite3'}"
    flask = [sys.executable, "-m", "flask", "--app"]
    flask.append(f"tests.sqla.factory_app:create_app({url!r})")
    root = pathlib.Path(__file__).parents[2]

    def run_flask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*flask, *args], cwd=root, capture_output=True, text=True, check=False
        )

    assert "admin-sessions" in run_flask("--help").stdout
    result = run_flask("admin-sessions", "--check")
    assert result.returncode == 0, result.stderr
    assert "2 views, 0 with a problem." in result.stdout
