"""Classify how each SQLAlchemy admin view of an app gets its session.

Nothing here opens a session or a connection: the classification reads what each
view was given, the way :func:`resolve_session_source` does at registration.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import inspect
import typing as t
import warnings

from flask import Flask
from flask_admin.contrib.sqla import view as sqla_view
from sqlalchemy import orm

from ._resolver import _custom_scopefunc
from ._resolver import _is_async
from ._resolver import resolve_session_source
from ._resolver import SessionSource
from ._resolver import SharedSessionWarning
from ._view import ModelView

Scope = t.Literal["request", "thread", "key", "app", "none"]
"""How long one session lives: a request, a thread (across its requests), a
value of a ``scoped_session``'s custom ``scopefunc`` (never removed), the whole
app (every request and thread), or no session can be had."""

Status = t.Literal["ok", "fragile", "app-lifetime", "broken"]
"""``ok``: a session per request, closed at its end. ``fragile``: works per
request, but the view cannot be built outside an app context. ``app-lifetime``:
the session outlives the request. ``broken``: requests cannot get a session."""

_OURS = "flask_admin.contrib.sqla_lite.ModelView"

_FRAGILE_LITE = (
    "Stock Flask-Admin reads 'db.session' when the view is built, which raises"
    " 'Working outside of application context' unless it is built inside one:"
    " this view only exists because it was, and the same code at import time or"
    f" in an app factory fails. Use '{_OURS}', which can be built anywhere."
)

_THREAD_SCOPED = (
    "The scoped_session keeps one session per thread across requests and stock"
    " Flask-Admin never removes it: after a request its transaction stays open"
    " (idle in transaction, holding a pooled connection) and later requests on"
    f" that thread see stale rows. Use '{_OURS}', which calls 'remove()' at"
    " teardown (this command cannot see a teardown function of your own that"
    " does)."
)

_KEY_SCOPED = (
    "The scoped_session has a custom scopefunc ({scopefunc}): it keeps one"
    " session per value that function returns, and stock Flask-Admin never calls"
    " 'remove()'. Unless something calls 'remove()' at teardown, it leaks a"
    " session per request when the key changes per request (like the app"
    " context's id of the workaround from flask-admin #2585), each holding a"
    " pooled connection idle in transaction until the pool is exhausted, and"
    " otherwise keeps its session past the request. Use '{ours}', which calls"
    " 'remove()' at app-context teardown (this command cannot see a teardown"
    " function of your own that does)."
)

_STOCK_ASYNC = (
    "Flask-Admin is synchronous: stock Flask-Admin calls '.query()' on {what}"
    " it was given as a session, which has no such method, so every page of the"
    " view fails. Pass your Flask-SQLAlchemy(-Lite) 'db', or use"
    f" '{_OURS}' with the synchronous equivalent, e.g. 'sessionmaker(engine)'"
    " instead of 'async_sessionmaker(engine)'."
)

_SHARED = (
    "One Session is shared by every request and thread: concurrent requests use"
    " the same transaction and identity map. Pass 'sessionmaker(engine)', a"
    " 'scoped_session' or your Flask-SQLAlchemy(-Lite) 'db' instead{ours}."
)


_STOCK_NONE = (
    "Stock Flask-Admin was given no session ('None'), so every page of the view"
    " fails. Pass your Flask-SQLAlchemy(-Lite) 'db', or use"
    f" '{_OURS}', which finds the app's extension."
)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How one view gets its session, and whether that is a problem."""

    source: str
    """The kind of source, e.g. ``"sessionmaker"`` (see :class:`SessionSource`)."""

    description: str
    """What the view was given, in words."""

    scope: Scope
    """How long one session lives."""

    closed_by: str | None
    """Who ends the session; ``None`` when no session can be had."""

    status: Status
    """``"ok"`` or the problem."""

    warning: str | None = None
    """What is wrong and how to fix it; ``None`` when the status is ``"ok"``."""


@dataclasses.dataclass(frozen=True)
class ViewReport:
    """One SQLAlchemy model view of an admin, and its :class:`Verdict`."""

    endpoint: str
    name: str
    model: str
    view_class: str
    """The view's class, ``module.QualifiedName``."""

    stock: bool
    """Whether it is a stock Flask-Admin view rather than one of ours."""

    verdict: Verdict


@dataclasses.dataclass(frozen=True)
class AdminReport:
    """One ``Admin`` registered on the app and its SQLAlchemy model views."""

    name: str
    url: str
    views: list[ViewReport]


def diagnose_app(app: Flask) -> list[AdminReport]:
    """Report every SQLAlchemy model view of every ``Admin`` registered on ``app``.

    :param app: The app whose ``app.extensions["admin"]`` is inspected.
    """
    return [
        AdminReport(
            name=admin.name,
            url=admin.url,
            # Flask-Admin keeps its views only in this attribute.
            views=[
                _view_report(view, app)
                for view in admin._views
                if isinstance(view, sqla_view.ModelView)
            ],
        )
        for admin in app.extensions.get("admin", [])
    ]


def classify_view(view: sqla_view.ModelView, app: Flask) -> Verdict:
    """Return how ``view`` gets its session in ``app``, without opening one.

    :param view: A stock Flask-Admin or our SQLAlchemy ``ModelView``.
    :param app: The app the view is registered on, for its SQLAlchemy extension.
    """
    if isinstance(view, ModelView):
        return _classify_ours(view, app)

    return _classify_stock(view.session)


def _view_report(view: sqla_view.ModelView, app: Flask) -> ViewReport:
    view_type = type(view)
    return ViewReport(
        endpoint=view.endpoint,
        name=view.name or view.endpoint,
        model=view.model.__name__,
        view_class=f"{view_type.__module__}.{view_type.__qualname__}",
        stock=not isinstance(view, ModelView),
        verdict=classify_view(view, app),
    )


def _resolve_quietly(source: object, session_name: str | None = None) -> SessionSource:
    """Resolve ``source`` without the warning registration already gave."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SharedSessionWarning)
        return resolve_session_source(source, session_name=session_name)


def _classify_ours(view: ModelView, app: Flask) -> Verdict:
    if type(view).get_session is not ModelView.get_session:
        return Verdict(
            source="get_session",
            description=f"{type(view).__qualname__}.get_session()",
            scope="request",
            closed_by="the owner of the session 'get_session()' returns",
            status="ok",
        )

    source = view.session_source

    if source.kind == "app-extension":
        return _classify_app_extension(view, app)

    if source.shared:
        return Verdict(
            source=source.kind,
            description=source.description,
            scope="app",
            closed_by=source.closed_by,
            status="app-lifetime",
            warning=_SHARED.format(ours=""),
        )

    verdict = _per_request(source)
    scopefunc = _scopefunc(source.open) if source.kind == "scoped_session" else None

    if scopefunc is not None:
        # The view calls 'remove()' as the app context ends, so the session of
        # the key ends with the request (the caveats are in doc/cli.rst).
        verdict = dataclasses.replace(
            verdict, description=_with_scopefunc(source.description, scopefunc)
        )

    return verdict


def _classify_app_extension(view: ModelView, app: Flask) -> Verdict:
    extension = app.extensions.get("sqlalchemy")

    if extension is None:
        return _broken(
            "none",
            "no session source",
            f"No session source was given and the app {app.name!r} has no"
            " Flask-SQLAlchemy-Lite or Flask-SQLAlchemy extension, so every"
            " request fails. Call 'db.init_app(app)', or pass the session source"
            " to the view.",
        )

    try:
        source = _resolve_quietly(extension, view.session_name)
    except TypeError as error:
        return _broken("app-extension", "the app's SQLAlchemy extension", str(error))

    return dataclasses.replace(
        _per_request(source),
        source="app-extension",
        description=f"the app's SQLAlchemy extension: {source.description}",
    )


def _classify_stock(session: object) -> Verdict:
    if session is None:
        return _broken("none", "no session", _STOCK_NONE)

    if inspect.iscoroutinefunction(session):
        what = f"the coroutine function {_name(session)}()"
        return _broken("async", what, _STOCK_ASYNC.format(what=what))

    if _is_async(session):
        what = f"the {type(session).__qualname__} {session!r}"
        return _broken("async", what, _STOCK_ASYNC.format(what=what))

    try:
        source = _resolve_quietly(session)
    except TypeError as error:
        return _broken("unknown", repr(session), str(error))

    if source.kind == "flask-sqlalchemy":
        return _per_request(source)

    if source.kind == "flask-sqlalchemy-lite":
        return dataclasses.replace(
            _per_request(source), status="fragile", warning=_FRAGILE_LITE
        )

    if source.kind == "scoped_session":
        scopefunc = _scopefunc(session)

        if scopefunc is not None:
            return Verdict(
                source=source.kind,
                description=_with_scopefunc(source.description, scopefunc),
                scope="key",
                closed_by="nobody after a request: each key's session lives on"
                " until 'remove()' is called under that key",
                status="app-lifetime",
                warning=_KEY_SCOPED.format(scopefunc=_name(scopefunc), ours=_OURS),
            )

        return Verdict(
            source=source.kind,
            description=source.description,
            scope="thread",
            closed_by="nobody after a request: the thread's session lives on"
            " until 'remove()' is called",
            status="app-lifetime",
            warning=_THREAD_SCOPED,
        )

    if source.shared:
        return Verdict(
            source=source.kind,
            description=source.description,
            scope="app",
            closed_by="its owner; nothing ends its transaction after a request",
            status="app-lifetime",
            warning=_SHARED.format(ours=f", with '{_OURS}'"),
        )

    return _broken(
        source.kind,
        source.description,
        "Stock Flask-Admin calls '.query()' on what it is given as a session,"
        f" and the {source.kind!r} it was given has no such method, so every page"
        f" of the view fails. Use '{_OURS}', which accepts it.",
    )


def _scopefunc(scoped: object) -> cabc.Callable[[], object] | None:
    """The custom ``scopefunc`` of a ``scoped_session``; ``None`` for the default
    thread-local scope, or for anything else. It is read, never called."""
    if not isinstance(scoped, orm.scoped_session):
        return None

    return _custom_scopefunc(scoped)


def _name(function: cabc.Callable[..., object]) -> str:
    return getattr(function, "__qualname__", repr(function))


def _with_scopefunc(description: str, scopefunc: cabc.Callable[[], object]) -> str:
    return f"{description} with scopefunc {_name(scopefunc)}"


def _per_request(source: SessionSource) -> Verdict:
    return Verdict(
        source=source.kind,
        description=source.description,
        scope="request",
        closed_by=source.closed_by,
        status="ok",
    )


def _broken(source: str, description: str, warning: str) -> Verdict:
    return Verdict(
        source=source,
        description=description,
        scope="none",
        closed_by=None,
        status="broken",
        warning=warning,
    )
