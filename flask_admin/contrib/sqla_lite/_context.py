"""The sessions in use in the current application context, and their teardown."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import logging
import typing as t

from flask import current_app
from flask import Flask
from flask import g
from flask import has_request_context
from flask import request
from flask.signals import appcontext_tearing_down
from sqlalchemy import orm

_G_KEY = "_flask_admin_sqla_lite"

_logger = logging.getLogger("flask_admin.contrib.sqla_lite")


class ContextSessions:
    """The sessions resolved in one application context, and what ends them."""

    __slots__ = ("sessions", "teardown")

    def __init__(self) -> None:
        self.sessions: dict[object, orm.Session] = {}
        # Created with the first release: most sources have nothing to release.
        self.teardown: contextlib.ExitStack | None = None

    def open(
        self,
        key: object,
        open_session: cabc.Callable[[], object],
        origin: str,
        release: cabc.Callable[[orm.Session], object] | None,
    ) -> orm.Session:
        """Open the session of ``key``, remember it and what releases it."""
        session = require_session(open_session(), origin)
        self.sessions[key] = session

        if release is not None:
            if self.teardown is None:
                self.teardown = contextlib.ExitStack()
                if not _ended_by_request():
                    _connect_teardown_receiver()

            self.teardown.callback(release, session)

        return session


def require_session(value: object, origin: str) -> orm.Session:
    """Return ``value`` if it is a :class:`~sqlalchemy.orm.Session`, else raise."""
    if isinstance(value, orm.Session):
        return value

    hint = ""

    if isinstance(value, orm.scoped_session):
        hint = " To use a 'scoped_session', return 'scoped()' or pass it directly."

    raise TypeError(
        f"{origin} returned {type(value).__module__}.{type(value).__qualname__},"
        f" not a 'sqlalchemy.orm.Session'.{hint}"
    )


def context_session(
    key: object,
    open_session: cabc.Callable[[], object],
    origin: str,
    release: cabc.Callable[[orm.Session], object] | None = None,
) -> orm.Session:
    """Return the session of the current application context remembered under
    ``key``, opening it on first use. This runs on every use of a session.

    :param key: What the session belongs to, a view or a source.
    :param open_session: Called once per application context.
    :param origin: Names ``open_session`` in errors.
    :param release: Called with the session when the application context ends.
    """
    try:
        # One lookup of the context's namespace.
        namespace = g._get_current_object()
    except RuntimeError:
        raise RuntimeError(
            f"{origin} needs an application context to resolve its session. Use"
            " it during a request, or push one with 'with app.app_context():'."
        ) from None

    # 'get', not 'getattr': a missing attribute raises inside the namespace.
    store: ContextSessions | None = namespace.get(_G_KEY)

    if store is None:
        store = ContextSessions()
        setattr(namespace, _G_KEY, store)

    session = store.sessions.get(key)

    if session is None:
        session = store.open(key, open_session, origin, release)

    return session


def end_context_sessions(exc: BaseException | None = None) -> None:
    """Release the sessions of the current application context, once.

    Each view's blueprint runs this as its ``teardown_request`` function, which
    Flask calls before the app's own request and app-context teardown functions,
    whatever order the extensions were set up in: no other extension's teardown
    can raise before it. Outside the admin's requests the
    ``appcontext_tearing_down`` receiver calls it. It never raises: a failed
    release is logged, so the app's other teardown functions still run.

    :param exc: The exception that ended the request, if any; not used.
    """
    # The namespace itself, not the 'g' proxy: this runs as every admin request ends.
    store: ContextSessions | None = g._get_current_object().pop(_G_KEY, None)

    if store is not None and store.teardown is not None:
        try:
            store.teardown.close()
        except Exception:
            _logger.exception("Releasing the admin's sessions failed.")


def _end_context_sessions(sender: Flask, **kwargs: t.Any) -> None:
    """Release what is left when an application context ends outside the admin's
    requests, e.g. a view's session used in a CLI command."""
    end_context_sessions()


def _ended_by_request() -> bool:
    """Whether the current request ends the context's sessions: it is routed to a
    blueprint that runs :func:`end_context_sessions` as its teardown."""
    if not has_request_context():
        return False

    functions = current_app.teardown_request_funcs
    return any(
        end_context_sessions in functions.get(name, ()) for name in request.blueprints
    )


_receiver_connected = False
"""Whether :func:`_end_context_sessions` is connected."""


def _connect_teardown_receiver() -> None:
    """Connect :func:`_end_context_sessions` to every app's teardown, on the first
    session that needs releasing outside a request the admin ends: while the
    admin's own requests end every session that needs it, app contexts end
    without dispatching to it."""
    global _receiver_connected

    if not _receiver_connected:
        appcontext_tearing_down.connect(_end_context_sessions)
        _receiver_connected = True
