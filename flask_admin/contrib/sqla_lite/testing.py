"""A pytest plugin: one test in your suite guards the sessions of your whole admin.

Enable it in the ``conftest.py`` at the root of your tests::

    pytest_plugins = ["flask_admin.contrib.sqla_lite.testing"]

Then, with your ``app`` fixture::

    def test_admin_sessions(admin_sessions_probe):
        admin_sessions_probe()

The test runs ``flask admin-sessions --probe`` over the app and fails with its
table when any view leaves a session, a transaction or a connection behind.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ._probe import AdminProbe
from ._probe import probe_app
from ._probe_report import count_problems
from ._probe_report import probe_lines
from ._table import PLAIN_WIDTH


def assert_admin_sessions_ok(
    app: Flask,
    *,
    write_check: bool = False,
    endpoints: cabc.Collection[str] | None = None,
    timeout: float = 30.0,
    url_values: cabc.Mapping[str, str] | None = None,
    login: cabc.Callable[[FlaskClient], object] | None = None,
) -> list[AdminProbe]:
    """Probe every SQLAlchemy model view of ``app`` and fail the test, with the
    probe's table, if any view has a problem or no view was probed.

    The options are those of :func:`flask_admin.contrib.sqla_lite.probe_app`.

    :return: The report, when every view is ``ok``.
    """
    admins = probe_app(
        app,
        write_check=write_check,
        endpoints=endpoints,
        timeout=timeout,
        url_values=url_values,
        login=login,
    )

    if not any(admin.views for admin in admins):
        pytest.fail(
            f"No SQLAlchemy model view was probed on the app {app.name!r}: is"
            " the admin registered on it ('admin.init_app(app)')?",
            pytrace=False,
        )

    problems = count_problems(admins)

    if problems:
        table = probe_lines(admins, width=PLAIN_WIDTH, color=False)
        pytest.fail(
            f"admin-sessions --probe: {problems} view(s) with a problem.\n\n"
            + "\n".join(table),
            pytrace=False,
        )

    return admins


@pytest.fixture
def admin_sessions_probe(
    request: pytest.FixtureRequest,
) -> cabc.Callable[..., list[AdminProbe]]:
    """Probe the app's admin views; fail the test with the table on a problem.

    Call it with no app to probe the ``app`` fixture, or pass one. The keyword
    options are those of :func:`assert_admin_sessions_ok`.
    """

    def probe(app: Flask | None = None, **options: t.Any) -> list[AdminProbe]:
        if app is None:
            app = request.getfixturevalue("app")

        return assert_admin_sessions_ok(app, **options)

    return probe
