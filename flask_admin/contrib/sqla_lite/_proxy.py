"""The object Flask-Admin's SQLAlchemy code is given in place of a session."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from sqlalchemy import orm


class SessionProxy:
    """Forwards every use to the session of the current application context.

    Flask-Admin keeps the object it is given as ``session`` in its forms, ajax
    loaders and validators, and uses it like a ``scoped_session``. Handing it this
    proxy makes every one of those code paths use the view's session of the
    current request, without touching any session when the view is built.
    """

    __slots__ = ("_resolve",)

    def __init__(self, resolve: cabc.Callable[[], orm.Session]) -> None:
        self._resolve = resolve

    @property
    def session(self) -> SessionProxy:
        """The proxy itself. Flask-Admin checks for a ``session`` attribute to
        recognise a database object it does not need to warn about.
        """
        return self

    def __call__(self) -> orm.Session:
        """Return the session of the current application context."""
        return self._resolve()

    def __getattr__(self, name: str) -> t.Any:
        # Private names are not forwarded: introspection such as Flask-Admin's
        # ``hasattr(attr, "_action")`` at construction must not open a session.
        if name.startswith("_"):
            raise AttributeError(name)

        return getattr(self._resolve(), name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {self._resolve!r}>"
