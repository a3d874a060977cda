"""The object Flask-Admin's SQLAlchemy code is given in place of a session."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from sqlalchemy import orm


class _Forwarded:
    """A public attribute of :class:`~sqlalchemy.orm.Session`, read from the
    current session.

    Found on the class, it spares the attribute lookup that fails before
    :meth:`SessionProxy.__getattr__` runs, and the exception that failure
    raises and catches, on every use of the session's methods.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, proxy: SessionProxy | None, owner: type) -> t.Any:
        if proxy is None:
            return self

        return getattr(proxy._resolve(), self.name)


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


def _forward_session_attributes() -> None:
    """Give :class:`SessionProxy` a :class:`_Forwarded` for each public
    attribute of the ``Session`` class it does not define itself."""
    for name in dir(orm.Session):
        if not name.startswith("_") and name not in vars(SessionProxy):
            setattr(SessionProxy, name, _Forwarded(name))


_forward_session_attributes()
