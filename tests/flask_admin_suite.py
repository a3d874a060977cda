"""Run Flask-Admin's own SQLAlchemy tests with our ``ModelView`` in place of theirs.

Loaded with ``-p tests.flask_admin_suite`` (see ``pyproject.toml``) before any test
module is imported, it replaces ``flask_admin.contrib.sqla.ModelView``, which
those tests import, with :class:`flask_admin.contrib.sqla_lite.ModelView`. The
tests whose outcome we change on purpose are listed in
:data:`INTENDED_DIFFERENCES` and printed in the run's summary.
"""

from __future__ import annotations

import gc
import importlib.metadata
import os
import tempfile
import typing as t

import flask_admin.contrib.sqla
import pytest
import sqlalchemy as sa

from flask_admin.contrib.sqla_lite import ModelView

from .optional import HAS_LITE
from .optional import LITE_MISSING
from .servers import POSTGRES_URL
from .servers import REQUIRED
from .servers import why_unreachable

SUITE = "flask_admin.tests.sqla"
"""The package of Flask-Admin's SQLAlchemy tests, shipped in its wheel."""

INTENDED_DIFFERENCES: dict[str, str] = {
    "test_basic.py::test_sqlalite_session_raises": (
        "Flask-Admin expects TypeError for a Session when Flask-SQLAlchemy-Lite"
        " is installed (its xfail). Ours accepts any Session as a legacy shared"
        " session: it warns with SharedSessionWarning and leaves no transaction"
        " open after each request. The test must pass without Flask-Admin's xfail."
    ),
}
"""Test (``file::function``, every parametrisation) → why its outcome differs with
our view. Flask-Admin's expected-failure mark is removed from these tests, so
they must pass with ours."""

BROKEN_IN_RELEASE: dict[tuple[str, str], str] = {
    ("2.2.0", "test_basic.py::test_sqlalite_session_raises"): (
        "Flask-Admin 2.2.0's test passes the (Model1, Model2) tuple returned by"
        " create_models() as the model, so it cannot pass with any view; fixed in"
        " 2.2.1"
    ),
}
"""(Flask-Admin version, test) → why that release's test is skipped: a bug in
the test itself, not a difference of our view."""

flask_admin.contrib.sqla.ModelView = ModelView


FLASK_ADMIN_DATABASE = os.environ.get("SQLA_LITE_FLASK_ADMIN_DB", "flask_admin_test")
"""The PostgreSQL database of Flask-Admin's tests; runs at the same time (CI runs
the tox envs beside the main suite) each need their own."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker Flask-Admin's tests use."""
    config.addinivalue_line(
        "markers", "flask_babel: requires Flask-Babel to be installed (Flask-Admin's)"
    )


def _prepare_postgres_database() -> str | None:
    """Create the database and extensions Flask-Admin's PostgreSQL tests use, and
    point them at it; return why not if the server is unreachable."""
    url = sa.engine.make_url(POSTGRES_URL)
    reason = why_unreachable(POSTGRES_URL)

    if reason is not None:
        return reason

    test_url = url.set(database=FLASK_ADMIN_DATABASE)
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    with server.connect() as conn:
        query = "SELECT 1 FROM pg_database WHERE datname = :name"

        if conn.scalar(sa.text(query), {"name": FLASK_ADMIN_DATABASE}) is None:
            conn.execute(sa.text(f'CREATE DATABASE "{FLASK_ADMIN_DATABASE}"'))

    server.dispose()
    database = sa.create_engine(test_url, isolation_level="AUTOCOMMIT")

    with database.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS hstore"))
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS citext"))

    database.dispose()
    os.environ.setdefault(
        "SQLALCHEMY_DATABASE_URI", test_url.render_as_string(hide_password=False)
    )
    return None


def _is_upstream(item: pytest.Item) -> bool:
    return item.module is not None and item.module.__name__.startswith(SUITE)  # type: ignore[attr-defined]


_COLLECTED = pytest.StashKey[int]()


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Point Flask-Admin's PostgreSQL tests at the local server, show rather than
    raise warnings in its tests, and drop its expected failures from the
    intended differences."""
    upstream = [item for item in items if _is_upstream(item)]
    release = importlib.metadata.version("flask-admin")
    config.stash[_COLLECTED] = len(upstream)
    postgres = [item for item in upstream if "test_postgres.py::" in item.nodeid]
    reason = _prepare_postgres_database() if postgres else None

    if reason is not None:
        message = f"{POSTGRES_URL} is unreachable: {reason}"

        if REQUIRED:
            raise pytest.UsageError(f"{message} (SQLA_LITE_REQUIRE_SERVERS=1)")

        for item in postgres:
            item.add_marker(pytest.mark.skip(reason=message))

    for item in upstream:
        # Flask-Admin's own list of ignored third-party warnings lives in its
        # repository's pyproject.toml, not in the wheel.
        item.add_marker(pytest.mark.filterwarnings("default"))

        test = f"{item.path.name}::{item.name.split('[')[0]}"

        if not HAS_LITE and "SQLALiteProvider" in item.name:
            # Flask-Admin's conftest adds this provider whenever SQLAlchemy is 2.x.
            item.add_marker(pytest.mark.skip(reason=LITE_MISSING))
        elif (release, test) in BROKEN_IN_RELEASE:
            reason = BROKEN_IN_RELEASE[release, test]
            item.add_marker(pytest.mark.skip(reason=reason))
        elif test in INTENDED_DIFFERENCES:
            item.own_markers = [m for m in item.own_markers if m.name != "xfail"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> t.Generator[None, object, object]:
    """Run Flask-Admin's tests in a temporary working directory: one of them
    writes ``f.html`` into the current directory, which is the checkout."""
    if not _is_upstream(item):
        return (yield)

    cwd = os.getcwd()

    with tempfile.TemporaryDirectory() as directory:
        os.chdir(directory)

        try:
            return (yield)
        finally:
            os.chdir(cwd)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Collect the engines Flask-Admin's fixtures leave undisposed while the
    test's warning filters apply.

    Otherwise their connections (psycopg's; on Python 3.13, SQLite's too) are
    garbage-collected later, and their ``ResourceWarning`` fails the run under
    ``filterwarnings = error``. The fixtures are finalized by now; pytest drops
    their values right after.
    """
    if _is_upstream(item):
        item.funcargs.clear()  # type: ignore[attr-defined]
        gc.collect()


def pytest_terminal_summary(terminalreporter: t.Any, config: pytest.Config) -> None:
    """List the intended differences and their reasons, if the suite ran."""
    if not config.stash.get(_COLLECTED, 0):
        return

    terminalreporter.section("Flask-Admin's suite: intended differences")
    terminalreporter.line(
        f"{SUITE} ran with flask_admin.contrib.sqla.ModelView = {ModelView.__module__}"
        ".ModelView"
    )

    for name, reason in INTENDED_DIFFERENCES.items():
        terminalreporter.line(f"{name}: {reason}")
