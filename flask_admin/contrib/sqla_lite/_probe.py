"""Measure what each SQLAlchemy admin view of an app leaves behind after its
requests, by driving its read-only pages through the app's test client.

Sessions and connections are counted with SQLAlchemy's session and pool events,
and the database server is asked which of the connections still checked out sit
inside a transaction. Nothing of Flask-Admin is patched.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import dataclasses
import html
import re
import threading
import time
import typing as t
import urllib.parse
import weakref

from flask import Flask
from flask import got_request_exception
from flask.testing import FlaskClient
from flask_admin.contrib.sqla import view as sqla_view
from sqlalchemy import event
from sqlalchemy import orm
from sqlalchemy import pool as sa_pool
from sqlalchemy.engine import Engine
from werkzeug.routing import BuildError

from ._diagnose import Verdict
from ._diagnose import view_report
from ._diagnose import ViewReport
from ._server import idle_in_transaction
from ._view import ModelView
from ._write_check import plan_row_change

Problem = t.Literal[
    "idle in transaction",
    "connection held",
    "connection leaked per request",
    "stale rows",
]

_OURS = "flask_admin.contrib.sqla_lite.ModelView"

_ROW_ID = re.compile(r"""[?&](?:amp;)?id=([^&"'<>\s]+)""")
"""The primary key in the list page's links to a row's details or edit page."""


@dataclasses.dataclass
class Measurement:
    """What a view's requests did and left behind."""

    pages: list[str] = dataclasses.field(default_factory=list)
    """The pages requested, in order, e.g. ``"list"``, ``"details"``."""

    sessions: int = 0
    """Sessions that began a transaction on a connection during the requests."""

    sessions_left_open: int = 0
    """Of those, sessions still inside a transaction after the last request."""

    checkouts: int = 0
    """Connections the requests checked out of a pool."""

    checkins: int = 0
    """Of those, connections returned to their pool."""

    held: list[int] = dataclasses.field(default_factory=list)
    """Connections still checked out after each request."""

    idle_in_transaction: int | None = None
    """Of the connections held after the last request, those the server reports
    inside a transaction; ``None`` when the server was not asked."""

    server_check: str = "was not asked"
    """How :attr:`idle_in_transaction` was measured, or why it was not."""

    stale: bool | None = None
    """Whether a row changed between two requests was shown unchanged; ``None``
    without ``write_check``."""

    stale_check: str | None = None
    """What the stale check did, or why it could not; ``None`` without
    ``write_check``."""

    errors: list[str] = dataclasses.field(default_factory=list)
    """Requests that failed, and why."""


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """One view's measurement, its verdict and the fix."""

    view: ViewReport
    """The view, and how ``admin-sessions`` classifies its session source."""

    verdict: str
    """``"ok"``, or the problems found joined by ``"; "``."""

    problems: list[str]
    """Each problem: one of :data:`Problem`, or ``"error: ..."``."""

    measured: Measurement
    fix: str | None
    """The change that removes the problems; ``None`` when there is nothing to fix."""

    seconds: float
    """How long the view's requests and checks took."""


@dataclasses.dataclass(frozen=True)
class AdminProbe:
    """One ``Admin`` registered on the app and the probe of its views."""

    name: str
    url: str
    views: list[ProbeResult]


def probe_app(
    app: Flask,
    *,
    endpoints: cabc.Collection[str] | None = None,
    write_check: bool = False,
    timeout: float = 30.0,
    url_values: cabc.Mapping[str, str] | None = None,
    login: cabc.Callable[[FlaskClient], object] | None = None,
    progress: cabc.Callable[[str], object] | None = None,
) -> list[AdminProbe]:
    """Drive every SQLAlchemy model view of every ``Admin`` on ``app`` through
    its test client, and report what each view's requests left behind.

    Each view gets a thread of its own, without an application context, so
    every request pushes and tears down its own, as a server does.

    :param app: The app, as configured, on its own database.
    :param endpoints: Probe only the views with these endpoints.
    :param write_check: Change one row out of band between two list requests to
        see whether a view shows it stale, then restore it (see :doc:`/cli`).
    :param timeout: Seconds a view may take before it is reported as timed out;
        its request in flight then runs to its end, and no other one starts.
    :param url_values: Values of the variables in the admin's URLs, such as
        ``{"tenant": "acme"}`` for an admin at ``/<tenant>/admin``.
    :param login: Called with each view's new test client before its requests,
        unmeasured, to log it in when the admin needs it, e.g.
        ``lambda client: client.post("/login", data=...)``.
    :param progress: Called with a line of text before and after each view.
    :raises ValueError: An endpoint in ``endpoints`` is not a model view's.
    """
    admins = [
        (admin, [v for v in admin._views if isinstance(v, sqla_view.ModelView)])
        for admin in app.extensions.get("admin", [])
    ]
    _check_endpoints(endpoints, [view for _, views in admins for view in views])
    selected = [
        (admin, [v for v in views if endpoints is None or v.endpoint in endpoints])
        for admin, views in admins
    ]
    total = sum(len(views) for _, views in selected)
    options = _Options(write_check, timeout, dict(url_values or {}), login)
    done = 0
    reports = []

    with _Events() as events:
        for admin, views in selected:
            results = []

            for view in views:
                done += 1
                _say(progress, f"[{done}/{total}] {view.endpoint}: probing...")
                result = _probe_view(app, view, events, options)
                _say(progress, f"[{done}/{total}] {view.endpoint}: {result.verdict}")
                results.append(result)

            reports.append(AdminProbe(admin.name, admin.url, results))

    return reports


def _say(progress: cabc.Callable[[str], object] | None, line: str) -> None:
    if progress is not None:
        progress(line)


def _check_endpoints(
    endpoints: cabc.Collection[str] | None, views: list[sqla_view.ModelView]
) -> None:
    if endpoints is None:
        return

    known = [view.endpoint for view in views]
    unknown = sorted(set(endpoints) - set(known))

    if unknown:
        raise ValueError(
            f"No SQLAlchemy model view has the endpoint {unknown[0]!r}. The"
            f" endpoints are: {', '.join(known) or 'none'}."
        )


@dataclasses.dataclass(frozen=True)
class _Options:
    write_check: bool
    timeout: float
    url_values: dict[str, str]
    login: cabc.Callable[[FlaskClient], object] | None


class _Recording:
    """The sessions and connections of one view's requests, from one thread."""

    def __init__(self) -> None:
        self.active = False
        self.sessions: list[weakref.ref[orm.Session]] = []
        # Identity, not id(): a session's id may be reused once it is collected.
        self.seen: weakref.WeakSet[orm.Session] = weakref.WeakSet()
        self.checked_out: dict[int, t.Any] = {}
        """Pool entries checked out and not yet returned -> driver connection."""

        self.engines: dict[int, Engine] = {}
        """The engine of each driver connection a session began on, by its id."""

        self.checkouts = 0
        self.checkins = 0

    def open_sessions(self) -> list[orm.Session]:
        """Sessions still alive and inside a transaction."""
        alive = (ref() for ref in self.sessions)
        return [s for s in alive if s is not None and s.in_transaction()]


class _Events:
    """SQLAlchemy session and pool listeners, dispatching to the recording of
    the thread the event happens in (a connection may be returned from any)."""

    def __init__(self) -> None:
        self._recordings: dict[int, _Recording] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> _Events:
        event.listen(orm.Session, "after_begin", self._after_begin)
        event.listen(sa_pool.Pool, "checkout", self._checkout)
        event.listen(sa_pool.Pool, "checkin", self._checkin)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(orm.Session, "after_begin", self._after_begin)
        event.remove(sa_pool.Pool, "checkout", self._checkout)
        event.remove(sa_pool.Pool, "checkin", self._checkin)

    def start(self) -> _Recording:
        """A recording of the current thread's events."""
        recording = _Recording()

        with self._lock:
            self._recordings[threading.get_ident()] = recording

        return recording

    def stop(self) -> None:
        with self._lock:
            self._recordings.pop(threading.get_ident(), None)

    def _current(self) -> _Recording | None:
        recording = self._recordings.get(threading.get_ident())
        return recording if recording is not None and recording.active else None

    def _after_begin(
        self, session: orm.Session, transaction: t.Any, connection: t.Any
    ) -> None:
        recording = self._current()

        if recording is None:
            return

        if session not in recording.seen:
            recording.seen.add(session)
            recording.sessions.append(weakref.ref(session))

        driver = getattr(connection.connection, "dbapi_connection", None)
        recording.engines[id(driver)] = connection.engine

    def _checkout(self, dbapi_connection: t.Any, record: t.Any, proxy: t.Any) -> None:
        recording = self._current()

        if recording is not None:
            recording.checkouts += 1
            recording.checked_out[id(record)] = dbapi_connection

    def _checkin(self, dbapi_connection: t.Any, record: t.Any) -> None:
        with self._lock:
            recordings = list(self._recordings.values())

        for recording in recordings:
            if recording.checked_out.pop(id(record), None) is not None:
                recording.checkins += 1


def _probe_view(
    app: Flask, view: sqla_view.ModelView, events: _Events, options: _Options
) -> ProbeResult:
    report = view_report(view, app)
    measured = Measurement()
    started = time.monotonic()
    run = _ViewRun(app, view, events, options, measured)
    worker = threading.Thread(
        target=run.run, name=f"admin-sessions probe {view.endpoint}", daemon=True
    )
    worker.start()
    worker.join(options.timeout)

    if worker.is_alive():
        # The request in flight runs to its end; no other one starts.
        run.cancelled.set()
        # The thread may still add to what it measured: report it as it is now.
        measured = copy.deepcopy(measured)
        problems = [
            f"error: timed out after {options.timeout:g} s, after the pages"
            f" {', '.join(measured.pages) or '(none)'}: a request waited that"
            " long, for a connection of an exhausted pool or a slow query."
            " Probe the view alone with '--view', or raise '--timeout'."
        ]
    else:
        problems = _problems(measured)

    return ProbeResult(
        view=report,
        verdict="; ".join(problems) or "ok",
        problems=problems,
        measured=measured,
        fix=_fix(view, report.verdict, problems),
        seconds=time.monotonic() - started,
    )


def _problems(measured: Measurement) -> list[str]:
    problems: list[str] = []
    held = measured.held[-1] if measured.held else 0

    if measured.idle_in_transaction or (
        measured.idle_in_transaction is None and held and measured.sessions_left_open
    ):
        problems.append("idle in transaction")

    if held >= 2 and held > measured.held[0]:
        problems.append("connection leaked per request")
    elif held:
        problems.append("connection held")

    if measured.stale:
        problems.append("stale rows")

    problems.extend(f"error: {error}" for error in measured.errors)
    return problems


class _ViewRun:
    """The requests and checks of one view, run in a thread of its own."""

    def __init__(
        self,
        app: Flask,
        view: sqla_view.ModelView,
        events: _Events,
        options: _Options,
        measured: Measurement,
    ) -> None:
        self.app = app
        self.view = view
        self.events = events
        self.options = options
        self.measured = measured
        self.client = app.test_client()
        self.adapter = app.url_map.bind("localhost")
        self.failures: list[BaseException] = []
        self.cancelled = threading.Event()
        """Set when the view timed out: the requests stop."""

    def run(self) -> None:
        # A new thread starts without Flask's contexts, so no app context pushed
        # by the caller (a CLI command, a test fixture) spans the requests.
        recording = self.events.start()
        got_request_exception.connect(self._failed, self.app)

        try:
            if self.options.login is not None:
                self.options.login(self.client)

            self._requests(recording)
        except _Stop as stop:
            self.measured.errors.append(str(stop))
        except Exception as error:
            self.measured.errors.append(_one_line(error))
        finally:
            got_request_exception.disconnect(self._failed, self.app)
            self._release(recording)
            self.events.stop()

    def _requests(self, recording: _Recording) -> None:
        view = self.view
        list_html = self._get(recording, "list", ".index_view")
        row_id = _first_row_id(list_html)

        if self.options.write_check:
            self._write_check(recording, list_html, row_id)

        if view.column_searchable_list:
            self._get(recording, "search", ".index_view", search="a")

        for page, endpoint, enabled in (
            ("details", ".details_view", view.can_view_details),
            ("edit form", ".edit_view", view.can_edit),
        ):
            if enabled and row_id is not None:
                self._get(recording, page, endpoint, id=row_id)

        for name in view._form_ajax_refs:
            page = f"ajax lookup {name!r}"
            self._get(recording, page, ".ajax_lookup", name=name, query="")

        self._measure_server(recording)

    def _write_check(
        self, recording: _Recording, list_html: str, row_id: str | None
    ) -> None:
        engine = _engine_of(recording)
        change = plan_row_change(self.view, engine, row_id, list_html)

        if isinstance(change, str):
            self.measured.stale_check = f"not run: {change}"
            return

        with change.applied():
            html_after = self._get(recording, "list after a change", ".index_view")

        self.measured.stale = change.seen_stale(html_after)
        self.measured.stale_check = change.description

    def _get(self, recording: _Recording, page: str, endpoint: str, **args: str) -> str:
        if self.cancelled.is_set():
            raise _Stop(f"timed out before the page {page!r}")

        url = self._url(endpoint, args)
        self.failures.clear()
        recording.active = True

        try:
            response = self.client.get(url)
        except Exception as error:
            raise _Stop(f"GET {url} ({page}) raised {_one_line(error)}") from None
        finally:
            recording.active = False

        self.measured.pages.append(page)
        self.measured.held.append(len(recording.checked_out))
        self.measured.sessions = len(recording.sessions)
        self.measured.sessions_left_open = len(recording.open_sessions())
        self.measured.checkouts = recording.checkouts
        self.measured.checkins = recording.checkins

        if response.status_code != 200:
            reason = (
                f": {_one_line(self.failures[0])}"
                if self.failures
                else _status_hint(response.status_code)
            )
            raise _Stop(f"GET {url} ({page}) answered {response.status}{reason}")

        return response.get_data(as_text=True)

    def _url(self, endpoint: str, args: dict[str, str]) -> str:
        name = f"{self.view.endpoint}{endpoint}"

        try:
            return self.adapter.build(name, {**self.options.url_values, **args})
        except BuildError:
            rule = next(iter(self.app.url_map.iter_rules(name)), None)
            missing = sorted(rule.arguments - set(args)) if rule else []
            raise _Stop(
                f"The URL of {name!r} needs {', '.join(map(repr, missing))}: give"
                " a value with '--url-value NAME=VALUE' (or 'url_values=')."
            ) from None

    def _failed(self, sender: Flask, exception: BaseException, **extra: t.Any) -> None:
        self.failures.append(exception)

    def _measure_server(self, recording: _Recording) -> None:
        by_engine: dict[int, tuple[Engine, list[t.Any]]] = {}

        for driver in recording.checked_out.values():
            engine = recording.engines.get(id(driver))

            if engine is not None:
                by_engine.setdefault(id(engine), (engine, []))[1].append(driver)

        if not recording.checked_out:
            self.measured.server_check = "was not asked: no connection held"
            return

        counts = [idle_in_transaction(e, drivers) for e, drivers in by_engine.values()]
        measured = [count for count, _ in counts if count is not None]
        self.measured.server_check = "; ".join(how for _, how in counts) or (
            "was not asked: no session began on the held connections"
        )
        self.measured.idle_in_transaction = sum(measured) if measured else None

    def _release(self, recording: _Recording) -> None:
        """Close the sessions the requests left inside a transaction, so the
        next view starts with their connections back in the pool."""
        for session in recording.open_sessions():
            session.close()


class _Stop(Exception):
    """A request failed: the view's remaining pages are not requested."""


def _engine_of(recording: _Recording) -> Engine | None:
    """The engine the first session of the view's requests began on."""
    return next(iter(recording.engines.values()), None)


def _first_row_id(list_html: str) -> str | None:
    """The primary key of the first row of a list page, from its row links."""
    match = _ROW_ID.search(list_html)

    if match is None:
        return None

    return urllib.parse.unquote(html.unescape(match.group(1)))


def _status_hint(status: int) -> str:
    if status in (301, 302, 303, 307, 308, 401, 403):
        return (
            ": the view is not open to an anonymous client (is_accessible() or a"
            " login redirect): log the probe's client in with 'login=' in the"
            " pytest plugin or probe_app()"
        )

    return ""


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _fix(view: sqla_view.ModelView, static: Verdict, problems: list[str]) -> str | None:
    if not any(problem in t.get_args(Problem) for problem in problems):
        return None

    if static.source == "session":
        source = " and give it 'sessionmaker(engine)' instead of one shared 'Session'"
    else:
        source = ""

    if not isinstance(view, ModelView):
        view_type = type(view)

        if view_type is sqla_view.ModelView:
            return f"Build the view with '{_OURS}'{source or ', same arguments'}."

        return (
            f"Derive {view_type.__qualname__!r} from '{_OURS}' instead of"
            f" 'flask_admin.contrib.sqla.ModelView'{source}."
        )

    if static.source in ("callable", "get_session"):
        return (
            f"End the session that {static.description} returns at app-context"
            " teardown, or give the view the 'sessionmaker' or 'scoped_session'"
            " it comes from: the view ends those itself."
        )

    return (
        f"Something else keeps the session open after the request; it is closed"
        f" by {static.closed_by}: end it at app-context teardown."
    )
