"""The pytest plugin: one line in a user's ``conftest.py``, one test that fails
with the probe's table when a view leaks, and passes on every example."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from ..optional import lite_param
from ..optional import needs_examples

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

INLINE_APP = """
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_admin import Admin
from sqlalchemy import orm
from {module} import ModelView

try:
    from flask_babel import Babel
except ImportError:  # Flask-Admin uses Flask-Babel only if it is installed.
    Babel = None

pytest_plugins = ["flask_admin.contrib.sqla_lite.testing"]

# SQLAlchemy 1.4's declarative style, which 2.x keeps.
Base = orm.declarative_base()


class Team(Base):
    __tablename__ = "team"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String, nullable=False)


@pytest.fixture
def app(tmp_path):
    engine = sa.create_engine(f"sqlite:///{{tmp_path / 'inline.sqlite3'}}")
    Base.metadata.create_all(engine)

    with orm.Session(engine) as session:
        session.add(Team(name="red"))
        session.commit()

    app = Flask("inline")
    if Babel is not None:
        Babel(app)
    admin = Admin(app)
    admin.add_view(ModelView(Team, orm.scoped_session(orm.sessionmaker(engine))))

    # A common fixture shape: the probe must not reuse this app context.
    with app.app_context():
        yield app

    engine.dispose()
"""
"""A user's ``conftest.py``: a view of ``{module}`` over a raw ``scoped_session``."""

LEAKING_APP = INLINE_APP.format(module="flask_admin.contrib.sqla")
"""A stock view: the ``scoped_session``'s session outlives each request."""

EXAMPLE_APP = """
import sys

import pytest

sys.path.insert(0, {folder!r})
from app import create_app

pytest_plugins = ["flask_admin.contrib.sqla_lite.testing"]


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{{tmp_path}}/{{{name!r}}}.sqlite3"
    app = create_app(url)

    # A common fixture shape: the probe must not reuse this app context.
    with app.app_context():
        yield app

    for engine in app.extensions.get("engines", {{}}).values():
        engine.dispose()
"""

TEST = """
def test_admin_sessions(admin_sessions_probe):
    admin_sessions_probe({options})
"""


def run_suite(
    pytester: pytest.Pytester, conftest: str, options: str = ""
) -> pytest.RunResult:
    """Run a user's suite of one probe test, in a process of its own."""
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_admin=TEST.format(options=options))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider")


def test_fails_a_leaking_app_with_the_table(pytester: pytest.Pytester) -> None:
    """A stock view over a raw ``scoped_session`` fails the test, and the failure
    shows the probe's table with the verdict and the fix."""
    result = run_suite(pytester, LEAKING_APP)

    result.assert_outcomes(failed=1)
    output = " ".join(result.stdout.str().split())
    assert "admin-sessions --probe: 1 view(s) with a problem." in output
    assert (
        "team Team stock 2 0/1 ended 0/1 returned idle in transaction; connection held"
    ) in output
    assert (
        "fix: Build the view with 'flask_admin.contrib.sqla_lite.ModelView'" in output
    )


def test_passes_our_view_on_every_version(pytester: pytest.Pytester) -> None:
    """Our view over the same ``scoped_session`` passes, though the ``app``
    fixture holds an app context open (SQLAlchemy 1.4 included, which the
    examples are not written for)."""
    conftest = INLINE_APP.format(module="flask_admin.contrib.sqla_lite")
    result = run_suite(pytester, conftest)

    result.assert_outcomes(passed=1)


@needs_examples
@pytest.mark.parametrize(
    ("example", "options"),
    (
        lite_param("sqla_lite", "", id="sqla_lite"),
        pytest.param("callable", "write_check=True", id="callable"),
        pytest.param("multitenant", "url_values={'tenant': 'acme'}", id="multitenant"),
    ),
)
def test_passes_the_examples(
    pytester: pytest.Pytester, example: str, options: str
) -> None:
    """The probe test passes on each example app, though the ``app`` fixture
    holds an app context open, which Flask would reuse for every request made
    in the test's thread."""
    name = "tenant_{tenant}" if example == "multitenant" else example
    conftest = EXAMPLE_APP.format(folder=str(EXAMPLES / example), name=name)
    result = run_suite(pytester, textwrap.dedent(conftest), options)

    result.assert_outcomes(passed=1)
