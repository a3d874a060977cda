"""Turn what a view is given as its session into a per-context session source."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import inspect
import numbers
import operator
import typing as t
import warnings

from flask import current_app
from sqlalchemy import orm
from sqlalchemy import util as sa_util
from sqlalchemy.engine import Engine

from ._context import context_session
from ._masking import describe
from ._masking import is_database_url

try:
    from flask_sqlalchemy_lite import SQLAlchemy as LiteSQLAlchemy
except ImportError:  # pragma: no cover - optional dependency
    LiteSQLAlchemy = None  # type: ignore[assignment,misc]

try:
    from flask_sqlalchemy import SQLAlchemy as FSASQLAlchemy
    from flask_sqlalchemy.session import Session as FSASession
except ImportError:  # pragma: no cover - optional dependency
    FSASQLAlchemy = None  # type: ignore[assignment,misc]
    FSASession = None  # type: ignore[assignment,misc]

try:
    from sqlalchemy.ext import asyncio as sa_async
except ImportError:  # pragma: no cover - sqlalchemy built without asyncio
    sa_async = None  # type: ignore[assignment]

# SQLAlchemy 1.4 has no 'async_sessionmaker', and its early releases no
# 'async_scoped_session': read the names that this version has.
_ASYNC_TYPES: tuple[type, ...] = tuple(
    getattr(sa_async, name)
    for name in (
        "AsyncSession",
        "async_sessionmaker",
        "async_scoped_session",
        "AsyncEngine",
    )
    if hasattr(sa_async, name)
)

SourceKind = t.Literal[
    "flask-sqlalchemy-lite",
    "flask-sqlalchemy",
    "scoped_session",
    "sessionmaker",
    "engine",
    "callable",
    "session",
    "app-extension",
]

_WHAT_TO_PASS = (
    "Pass a Flask-SQLAlchemy-Lite or Flask-SQLAlchemy 'db', a 'scoped_session',"
    " a 'sessionmaker', an 'Engine', or a function that returns a"
    " 'sqlalchemy.orm.Session'."
)


class SharedSessionWarning(UserWarning):
    """A view was given one :class:`~sqlalchemy.orm.Session` instance, which every
    request and thread will share.
    """


@dataclasses.dataclass(frozen=True, eq=False)
class SessionSource:
    """A session source resolved by :func:`resolve_session_source`.

    Call it inside an application context to get the
    :class:`~sqlalchemy.orm.Session` for that context: the first call opens it,
    later calls in the same context return the same session, and it is released
    as :attr:`closed_by` says when the context ends.
    """

    kind: SourceKind
    """What was given, e.g. ``"sessionmaker"``."""

    description: str
    """A short description of the source, used in messages."""

    closed_by: str
    """Who ends the session, e.g. ``"the view, at app-context teardown"``."""

    shared: bool
    """Whether one session serves every request and thread (a plain ``Session``)."""

    open: cabc.Callable[[], object] = dataclasses.field(repr=False)
    """Return the session for the current context; called once per context."""

    release: cabc.Callable[[orm.Session], object] | None = dataclasses.field(repr=False)
    """Called with the session when the context ends; ``None`` leaves it to its
    owner."""

    per_context: bool = dataclasses.field(default=False, repr=False)
    """Whether :attr:`open` itself returns one session per application context,
    as the Flask extensions' sessions do, so the source need not keep it."""

    def __call__(self) -> orm.Session:
        """Return the session of the current application context."""
        if self.per_context:
            return self.open()  # type: ignore[return-value]

        return context_session(self, self.open, self.description, self.release)

    @property
    def session_getter(self) -> cabc.Callable[[], orm.Session]:
        """A function returning the session of the current application context,
        the cheapest: :attr:`open` itself where it keeps one per context."""
        return (
            t.cast(cabc.Callable[[], orm.Session], self.open)
            if self.per_context
            else self
        )

    @property
    def may_need_ending(self) -> bool:
        """Whether a session from this source may need the view to end it: one it
        opens or shares, or a ``scoped_session`` a session function returns."""
        return self.release is not None or self.kind == "callable"


def resolve_session_source(
    source: object = None, *, session_name: str | None = None
) -> SessionSource:
    """Check what was given as a session and return how to get one per context.

    Nothing is connected or opened here, so this works without an application
    context. See :doc:`/compatibility` for the rules.

    :param source: A Flask-SQLAlchemy-Lite or Flask-SQLAlchemy ``SQLAlchemy``
        instance, Flask-SQLAlchemy's ``db.session``, a
        :class:`~sqlalchemy.orm.scoped_session`, a
        :class:`~sqlalchemy.orm.sessionmaker`, an :class:`~sqlalchemy.engine.Engine`,
        a function without arguments returning a :class:`~sqlalchemy.orm.Session`,
        a ``Session`` (shared, warns), or ``None`` for the current app's extension.
    :param session_name: The Flask-SQLAlchemy-Lite session to use,
        ``db.get_session(session_name)``. Only for a Lite ``db`` or ``None``.
    :raises TypeError: ``source`` cannot give a synchronous session.
    """
    return _resolve(source, session_name, stacklevel=3)


def _resolve(
    source: object, session_name: str | None, *, stacklevel: int
) -> SessionSource:
    """Resolve ``source``; ``stacklevel`` points a warning at the user's call."""
    if session_name is not None:
        _check_session_name(source, session_name)

    if source is None:
        return _app_extension_source(session_name)

    if LiteSQLAlchemy is not None and isinstance(source, LiteSQLAlchemy):
        return _lite_source(source, session_name or "default")

    if FSASQLAlchemy is not None and isinstance(source, FSASQLAlchemy):
        return _fsa_source(source.session, "Flask-SQLAlchemy 'db'")

    _refuse_async(source)

    if isinstance(source, orm.scoped_session):
        return _scoped_source(source)

    if isinstance(source, orm.sessionmaker):
        return _owned_source("sessionmaker", f"sessionmaker {describe(source)}", source)

    if isinstance(source, Engine):
        return _owned_source(
            "engine",
            f"engine {describe(source)}",
            lambda: orm.Session(bind=source),
        )

    if isinstance(source, orm.Session):
        return _shared_source(source, stacklevel + 1)

    if isinstance(source, type):
        raise TypeError(_class_message(source))

    if isinstance(source, (str, bytes, numbers.Number)) or not callable(source):
        raise TypeError(_not_a_source_message(source))

    return _callable_source(source)


def _check_session_name(source: object, session_name: str) -> None:
    if source is not None and not (
        LiteSQLAlchemy is not None and isinstance(source, LiteSQLAlchemy)
    ):
        raise TypeError(
            f"'session_name={session_name!r}' selects a Flask-SQLAlchemy-Lite"
            f" session, but the source is {type(source).__qualname__}. Pass the"
            " Flask-SQLAlchemy-Lite 'db', or drop 'session_name'."
        )


def _is_async(source: object) -> bool:
    """Whether ``source`` is an async session, engine, factory or function.

    On SQLAlchemy 1.4 an async session factory is ``sessionmaker(class_=AsyncSession)``
    (2.0 added ``async_sessionmaker``), also inside a ``scoped_session``.
    """
    if isinstance(source, _ASYNC_TYPES) or inspect.iscoroutinefunction(source):
        return True

    if isinstance(source, orm.scoped_session):
        source = source.session_factory

    return (
        sa_async is not None
        and isinstance(source, orm.sessionmaker)
        and issubclass(source.class_, sa_async.AsyncSession)
    )


def _refuse_async(source: object) -> None:
    if _is_async(source):
        raise TypeError(
            f"Flask-Admin is synchronous and cannot use the async {describe(source)}"
            f" ({type(source).__qualname__}). Pass the synchronous equivalent,"
            " e.g. 'sessionmaker(engine)' instead of 'async_sessionmaker(engine)'."
        )


def _not_a_source_message(source: object) -> str:
    if is_database_url(source):
        return (
            f"Cannot use the database URL {describe(source)}"
            f" ({type(source).__qualname__}) as a session source: a view needs"
            " something that makes sessions. Pass 'create_engine(url)' or"
            " 'sessionmaker(create_engine(url))', or your Flask-SQLAlchemy(-Lite)"
            " 'db' configured with the URL."
        )

    return (
        f"Cannot use {describe(source)} ({type(source).__qualname__}) as a session"
        f" source. {_WHAT_TO_PASS}"
    )


def _class_message(source: type) -> str:
    if issubclass(source, orm.Session):
        return (
            f"Received the class {source.__qualname__}, not a session source."
            " Pass 'sessionmaker(engine)' (or 'sessionmaker(engine,"
            f" class_={source.__qualname__})') so each request gets its own session."
        )

    return f"Received the class {source.__qualname__}. {_WHAT_TO_PASS}"


def _lite_source(db: t.Any, name: str) -> SessionSource:
    def open_lite_session() -> orm.Session:
        # Flask-SQLAlchemy-Lite keeps one session per name and app context.
        session: orm.Session = db.get_session(name)

        # Without a default engine, explain an app that only has async ones.
        if session.bind is None and not db.engines and db.async_engines:
            raise RuntimeError(
                "The Flask-SQLAlchemy-Lite extension on this app only has async"
                " engines ('SQLALCHEMY_ASYNC_ENGINES'). Flask-Admin needs a"
                " synchronous engine: configure 'SQLALCHEMY_ENGINES' as well."
            )

        return session

    return SessionSource(
        kind="flask-sqlalchemy-lite",
        description=f"Flask-SQLAlchemy-Lite 'db' (session {name!r})",
        closed_by="Flask-SQLAlchemy-Lite, at app-context teardown",
        shared=False,
        open=open_lite_session,
        release=None,
        per_context=True,
    )


def _fsa_source(scoped: orm.scoped_session[t.Any], description: str) -> SessionSource:
    return SessionSource(
        kind="flask-sqlalchemy",
        description=description,
        closed_by="Flask-SQLAlchemy, at app-context teardown",
        shared=False,
        # What calling the scoped_session calls, without its check for arguments.
        open=scoped.registry,
        release=None,
        per_context=True,
    )


def _scoped_source(scoped: orm.scoped_session[t.Any]) -> SessionSource:
    # A scoped_session's factory is usually a sessionmaker, but may be any callable.
    session_class = getattr(scoped.session_factory, "class_", None)

    if (
        FSASession is not None
        and isinstance(session_class, type)
        and issubclass(session_class, FSASession)
    ):
        return _fsa_source(scoped, "Flask-SQLAlchemy 'db.session'")

    return SessionSource(
        kind="scoped_session",
        description=f"scoped_session {describe(scoped)}",
        closed_by="the view, which calls 'remove()' at app-context teardown",
        shared=False,
        open=scoped,
        release=_remover(scoped),
    )


def _remover(
    scoped: orm.scoped_session[t.Any],
) -> cabc.Callable[[orm.Session], None]:
    """Return what ends the registry's session at app-context teardown.

    A custom ``scopefunc`` is not asked for its key then: it may read the
    request, which has already ended. The session is closed and its entry, found
    by identity, dropped from the registry, which is what ``remove()`` does.
    """
    if _custom_scopefunc(scoped) is None:
        return lambda session: scoped.remove()

    registry = scoped.registry

    def remove(session: orm.Session) -> None:
        session.close()

        for key, value in list(registry.registry.items()):
            if value is session:
                registry.registry.pop(key, None)

    return remove


def _custom_scopefunc(
    scoped: orm.scoped_session[t.Any],
) -> cabc.Callable[[], object] | None:
    """The ``scopefunc`` a ``scoped_session`` was given; ``None`` for the default
    thread-local scope. It is read, never called."""
    # SQLAlchemy keeps a default scoped_session in a ThreadLocalRegistry, and
    # one with a scopefunc in a ScopedRegistry holding that function.
    if isinstance(scoped.registry, sa_util.ThreadLocalRegistry):
        return None

    scopefunc: cabc.Callable[[], object] = scoped.registry.scopefunc
    return scopefunc


def _owned_source(
    kind: SourceKind, description: str, factory: cabc.Callable[[], orm.Session]
) -> SessionSource:
    return SessionSource(
        kind=kind,
        description=description,
        closed_by="the view, at app-context teardown",
        shared=False,
        open=factory,
        release=operator.methodcaller("close"),
    )


def _shared_source(session: orm.Session, stacklevel: int) -> SessionSource:
    warnings.warn(
        "A 'Session' instance is shared by every request and thread that uses"
        " this view. Pass 'sessionmaker(engine)', a 'scoped_session' or your"
        " Flask-SQLAlchemy(-Lite) 'db' so each request gets its own session.",
        SharedSessionWarning,
        stacklevel=stacklevel,
    )
    return SessionSource(
        kind="session",
        description=f"shared session {describe(session)}",
        closed_by="its owner; the view rolls back its transaction after each request",
        shared=True,
        open=lambda: session,
        release=operator.methodcaller("rollback"),
    )


def _callable_source(function: cabc.Callable[..., object]) -> SessionSource:
    try:
        inspect.signature(function).bind()
    except TypeError:
        raise TypeError(
            f"The session function {describe(function)} must be callable without"
            " arguments: it is called once per application context to return"
            " the 'Session' to use."
        ) from None
    except ValueError:  # pragma: no cover - builtins without a signature
        pass

    name = getattr(function, "__qualname__", None) or describe(function)
    return SessionSource(
        kind="callable",
        description=f"session function {name}()",
        closed_by=_CALLABLE_CLOSED_BY,
        shared=False,
        open=_registry_session_opener(function),
        release=None,
    )


_CALLABLE_CLOSED_BY = (
    "the function's owner; for a 'scoped_session' it returns, Flask-SQLAlchemy"
    " (its 'db.session') or else the view, which calls 'remove()' at app-context"
    " teardown"
)


def _registry_session_opener(
    function: cabc.Callable[[], object],
) -> cabc.Callable[[], object]:
    """Wrap a session function so that a ``scoped_session`` it returns, such as
    Flask-SQLAlchemy's ``db.session`` from ``lambda: db.session``, gives that
    registry's session, ended as if the ``scoped_session`` had been given."""
    resolved: list[tuple[orm.scoped_session[t.Any], SessionSource]] = []

    def open_session() -> object:
        value = function()

        if not isinstance(value, orm.scoped_session):
            return value

        if not resolved or resolved[0][0] is not value:
            resolved[:] = [(value, _scoped_source(value))]

        return resolved[0][1]()

    return open_session


def _app_extension_source(session_name: str | None) -> SessionSource:
    def open_extension_session() -> object:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        extension = app.extensions.get("sqlalchemy")

        if extension is None:
            raise RuntimeError(
                f"No session source was given and the app {app.name!r} has no"
                " Flask-SQLAlchemy-Lite or Flask-SQLAlchemy extension. Call"
                " 'db.init_app(app)', or pass the session source to the view."
            )

        return _resolve(extension, session_name, stacklevel=2).open()

    return SessionSource(
        kind="app-extension",
        description="the app's SQLAlchemy extension",
        closed_by="the app's SQLAlchemy extension, at app-context teardown",
        shared=False,
        open=open_extension_session,
        release=None,
    )
