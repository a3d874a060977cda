"""``flask admin-sessions --probe`` on SQLite: its options, exit codes, JSON,
progress and timeouts (the leaks themselves are measured on PostgreSQL and
MariaDB in ``tests/server/test_probe.py``)."""

from __future__ import annotations

import collections.abc as cabc
import json
import threading
import typing as t
import warnings

import pytest
from click.testing import Result
from flask import Flask
from flask import request
from flask import session
from flask_admin.contrib.sqla.view import ModelView as StockModelView
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import ModelView
from flask_admin.contrib.sqla_lite import probe_app
from flask_admin.contrib.sqla_lite._cli import admin_sessions

from .admin_app import build_app
from .admin_app import build_views
from .sources import _plain
from .sources import SOURCES
from .sources import SourceSetup
from .sources import without_lite_installed

VIEW_KEYS = {
    "endpoint",
    "name",
    "model",
    "view_class",
    "stock",
    "source",
    "description",
    "closed_by",
    "verdict",
    "problems",
    "fix",
    "measured",
    "seconds",
}
"""The keys of each view of ``--probe --json``."""

MEASURED_KEYS = {
    "pages",
    "sessions",
    "sessions_left_open",
    "checkouts",
    "checkins",
    "held",
    "idle_in_transaction",
    "server_check",
    "stale",
    "stale_check",
    "errors",
}
"""The keys of a view's ``measured`` object."""


@pytest.fixture
def setups(db_url: str) -> cabc.Iterator[list[SourceSetup]]:
    """The setups the test builds apps from; disposed after it."""
    built: list[SourceSetup] = []
    yield built

    for setup in built:
        setup.dispose()


@pytest.fixture
def ours(db_url: str, seeded: dict[str, int], setups: list[SourceSetup]) -> Flask:
    """Our views over a ``sessionmaker``: a session per request."""
    setup = SOURCES["sessionmaker"](db_url)
    setups.append(setup)
    return build_app(setup, build_views(setup.source))


@pytest.fixture
def leaky(db_url: str, seeded: dict[str, int], setups: list[SourceSetup]) -> Flask:
    """Stock views over a raw ``scoped_session``: the session outlives requests."""
    setup = _plain(db_url, lambda engine: orm.scoped_session(orm.sessionmaker(engine)))
    setups.append(setup)

    with without_lite_installed(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return build_app(setup, build_views(setup.source, StockModelView))


def run(app: Flask, *args: str) -> Result:
    """Run ``flask admin-sessions --probe ARGS`` through Flask's CLI runner."""
    return app.test_cli_runner().invoke(admin_sessions, ["--probe", *args])


def report(app: Flask, *args: str) -> dict[str, t.Any]:
    """The JSON report of the probe."""
    return t.cast(dict[str, t.Any], json.loads(run(app, "--json", *args).stdout))


def test_ours_ok_though_the_command_holds_an_app_context(ours: Flask) -> None:
    """The command runs inside an app context, yet every request of the probe
    gets a session of its own that ends with it."""
    output = report(ours)

    assert output["problems"] == 0

    for view in output["admins"][0]["views"]:
        measured = view["measured"]
        assert view["verdict"] == "ok"
        assert measured["sessions"] == len(measured["pages"]) > 0
        assert measured["sessions_left_open"] == 0
        assert measured["held"] == [0] * len(measured["pages"])


def test_leak_is_reported_with_the_fix(leaky: Flask) -> None:
    """A stock view over a raw ``scoped_session`` holds its connection inside a
    transaction after each request; the fix names our view."""
    person = report(leaky)["admins"][0]["views"][0]

    assert person["problems"] == ["idle in transaction", "connection held"]
    assert person["measured"]["held"] == [1] * len(person["measured"]["pages"])
    assert person["fix"] == (
        "Derive 'PersonView' from 'flask_admin.contrib.sqla_lite.ModelView' instead"
        " of 'flask_admin.contrib.sqla.ModelView'."
    )


@pytest.mark.parametrize(
    ("fixture", "args", "exit_code"),
    (
        ("ours", ("--check",), 0),
        ("leaky", ("--check",), 1),
        ("leaky", ("--check", "--json"), 1),
        ("leaky", (), 0),
    ),
    ids=("ok", "problem", "problem-json", "no-check"),
)
def test_check_exit_code(
    fixture: str, args: tuple[str, ...], exit_code: int, request: pytest.FixtureRequest
) -> None:
    """``--check`` exits 1 when any view has a problem; without it, 0."""
    app: Flask = request.getfixturevalue(fixture)

    assert run(app, *args).exit_code == exit_code


def test_json_schema(leaky: Flask) -> None:
    """The JSON report has the admins, their views with what was measured, and
    the number of views with a problem."""
    output = report(leaky)

    assert set(output) == {"admins", "problems"}
    (admin,) = output["admins"]
    assert set(admin) == {"name", "url", "views"}
    assert output["problems"] == len(admin["views"]) == 3

    for view in admin["views"]:
        assert set(view) == VIEW_KEYS
        assert set(view["measured"]) == MEASURED_KEYS


def test_view_probes_one(leaky: Flask) -> None:
    """``--view ENDPOINT`` probes that view only."""
    output = report(leaky, "--view", "team")

    assert [v["endpoint"] for v in output["admins"][0]["views"]] == ["team"]
    assert output["problems"] == 1


def test_unknown_view_lists_the_endpoints(ours: Flask) -> None:
    """An unknown endpoint is a usage error naming the endpoints there are."""
    result = run(ours, "--view", "nobody")

    assert result.exit_code == 2
    assert (
        "No SQLAlchemy model view has the endpoint 'nobody'. The endpoints are:"
        " person, person_select, team." in result.output
    )


@pytest.mark.parametrize("option", ("--write-check", "--view=team", "--url-value=a=b"))
def test_probe_options_need_probe(ours: Flask, option: str) -> None:
    """The probe's options are refused without ``--probe``."""
    result = ours.test_cli_runner().invoke(admin_sessions, [option])

    assert result.exit_code == 2
    assert f"'{option.split('=')[0]}' needs '--probe'." in result.output


def test_table_and_progress(ours: Flask) -> None:
    """The table goes to standard output, one progress line before and after
    each view to standard error."""
    result = run(ours)

    assert result.stderr.splitlines() == [
        "[1/3] person: probing...",
        "[1/3] person: ok",
        "[2/3] person_select: probing...",
        "[2/3] person_select: ok",
        "[3/3] team: probing...",
        "[3/3] team: ok",
    ]
    assert result.stdout.splitlines()[1].split() == [
        "VIEW",
        "MODEL",
        "CLASS",
        "REQUESTS",
        "SESSIONS",
        "CONNECTIONS",
        "VERDICT",
    ]
    assert result.stdout.endswith("\n3 views probed, 0 with a problem.\n")


def test_timeout(
    db_url: str, seeded: dict[str, int], setups: list[SourceSetup]
) -> None:
    """A view slower than ``--timeout`` is reported as timed out, with the pages
    it got through, and the next view is probed. The request in flight runs to
    its end; the timed-out view's probe starts no other request."""
    setup = SOURCES["sessionmaker"](db_url)
    setups.append(setup)
    gate = threading.Event()

    class SlowView(ModelView):
        def get_query(self) -> t.Any:
            gate.wait(10)
            return super().get_query()

    app = build_app(setup, build_views(setup.source, SlowView))
    pages: list[str] = []
    app.before_request(lambda: pages.append(request.path))

    output = report(app, "--timeout", "0.2", "--view", "person", "--view", "team")
    person, team = output["admins"][0]["views"]

    assert person["problems"] == [
        "error: timed out after 0.2 s, after the pages (none): a request waited"
        " that long, for a connection of an exhausted pool or a slow query. Probe"
        " the view alone with '--view', or raise '--timeout'."
    ]
    assert team["endpoint"] == "team"

    gate.set()
    workers = [x for x in threading.enumerate() if x.name.startswith("admin-sessions")]
    for worker in workers:
        worker.join(10)

    assert len(workers) == 2
    assert not any(worker.is_alive() for worker in workers)
    assert sorted(pages) == ["/admin/person/", "/admin/team/"]


def test_url_values(
    db_url: str, seeded: dict[str, int], setups: list[SourceSetup]
) -> None:
    """An admin whose URL has a variable needs its value, given with
    ``--url-value``; without it, each view says so."""
    setup = SOURCES["sessionmaker"](db_url)
    setups.append(setup)
    app = build_app(setup, build_views(setup.source), url="/<tenant>/admin")
    tenants: list[str] = []

    @app.url_value_preprocessor
    def pull_tenant(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        if values is not None and "tenant" in values:
            tenants.append(values.pop("tenant"))

    @app.url_defaults
    def push_tenant(endpoint: str, values: dict[str, t.Any]) -> None:
        if app.url_map.is_endpoint_expecting(endpoint, "tenant"):
            values.setdefault("tenant", tenants[-1])

    missing = report(app, "--view", "team")["admins"][0]["views"][0]
    assert missing["problems"] == [
        "error: The URL of 'team.index_view' needs 'tenant': give a value with"
        " '--url-value NAME=VALUE' (or 'url_values=')."
    ]

    given = report(app, "--view", "team", "--url-value", "tenant=acme")
    assert given["problems"] == 0
    assert set(tenants) == {"acme"}


def test_url_value_format(ours: Flask) -> None:
    """A ``--url-value`` without ``=`` is a usage error."""
    result = run(ours, "--url-value", "tenant")

    assert result.exit_code == 2
    assert "'--url-value tenant' is not NAME=VALUE" in result.output


def test_view_closed_to_anonymous_clients(
    db_url: str, seeded: dict[str, int], setups: list[SourceSetup]
) -> None:
    """A view that refuses the probe's anonymous client reports an error that
    says so; with ``login``, the probe's client is logged in first."""
    setup = SOURCES["sessionmaker"](db_url)
    setups.append(setup)

    class PrivateView(ModelView):
        def is_accessible(self) -> bool:
            return session.get("user") == "admin"

    app = build_app(setup, build_views(setup.source, PrivateView))

    @app.post("/login")
    def login() -> str:
        session["user"] = "admin"
        return "in"

    (team,) = report(app, "--view", "team")["admins"][0]["views"]

    assert team["problems"] == [
        "error: GET /admin/team/ (list) answered 403 FORBIDDEN: the view is not"
        " open to an anonymous client (is_accessible() or a login redirect): log"
        " the probe's client in with 'login=' in the pytest plugin or probe_app()"
    ]

    (logged_in,) = probe_app(
        app, endpoints=["team"], login=lambda client: client.post("/login")
    )
    assert logged_in.views[0].verdict == "ok"
