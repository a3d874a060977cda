"""The SQLAlchemy model view that resolves its session per request."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from flask import Blueprint
from flask_admin.contrib.sqla import view as sqla_view
from sqlalchemy import orm

from ._context import context_sessions
from ._context import end_context_sessions
from ._proxy import SessionProxy
from ._resolver import _resolve
from ._resolver import SessionSource


class ModelView(sqla_view.ModelView):  # type: ignore[misc]
    """A drop-in :class:`flask_admin.contrib.sqla.ModelView` that resolves its
    session per request.

    Building the view never touches the session, so views can be created at
    import time. Every code path of the view (list, forms, ajax lookups,
    validators, export, actions) uses the session returned by
    :meth:`get_session`, once per application context.

    :param model: The model class.
    :param session: Where sessions come from: a Flask-SQLAlchemy-Lite or
        Flask-SQLAlchemy ``db``, ``db.session``, a ``scoped_session``, a
        ``sessionmaker``, an ``Engine``, a function returning a ``Session``, a
        ``Session`` (shared, warns), or ``None`` for the app's extension. See
        :func:`resolve_session_source`.
    :param name: View name, defaults to the model name.
    :param category: Menu category.
    :param endpoint: Endpoint name, defaults to the model name.
    :param url: Base URL, defaults to ``/admin/`` + endpoint.
    :param static_folder: Static folder of the view's blueprint.
    :param menu_class_name: Class name of the menu item.
    :param menu_icon_type: Menu icon type.
    :param menu_icon_value: Menu icon glyph name or URL.
    :param session_name: Sets :attr:`session_name`.
    """

    session_name: str | None = None
    """The Flask-SQLAlchemy-Lite session to use, ``db.get_session(session_name)``.
    A separate name keeps the admin's commits apart from the app's own pending
    work in the same request. ``None`` uses the default session.

    Example::

        class AuditedUserView(ModelView):
            session_name = "admin"
    """

    session_source: SessionSource
    """How this view gets its session, from :func:`resolve_session_source`."""

    def __init__(
        self,
        model: type[t.Any],
        session: object = None,
        name: str | None = None,
        category: str | None = None,
        endpoint: str | None = None,
        url: str | None = None,
        static_folder: str | None = None,
        menu_class_name: str | None = None,
        menu_icon_type: str | None = None,
        menu_icon_value: str | None = None,
        *,
        session_name: str | None = None,
    ) -> None:
        if session_name is not None:
            self.session_name = session_name

        self.session_source = _resolve(session, self.session_name, stacklevel=3)
        self._session_origin = (
            f"{type(self).__qualname__}({model.__name__}).get_session()"
        )
        # The default get_session() returns the source's session, which the
        # source already keeps per application context: use it directly.
        overridden = type(self).get_session is not ModelView.get_session
        super().__init__(
            model,
            SessionProxy(
                self._session_in_context if overridden else self.session_source
            ),
            name,
            category,
            endpoint,
            url,
            static_folder,
            menu_class_name,
            menu_icon_type,
            menu_icon_value,
        )

    def get_session(self) -> orm.Session:
        """Return the session this view uses in the current application context.

        The view calls this once per application context and uses the result for
        every code path; ``self.session`` forwards to it. The default resolves
        :attr:`session_source`. Override it to choose the session per request,
        for example per tenant, returning a session whose owner closes it, such
        as a Flask-SQLAlchemy-Lite ``db.get_session(name)`` or a source from
        :func:`resolve_session_source`.
        """
        return self.session_source()

    def create_blueprint(self, admin: t.Any) -> Blueprint:
        """Create the view's blueprint, which releases the request's sessions.

        A blueprint's ``teardown_request`` functions run before the app's own
        teardown functions, so the sessions the view opened, a
        ``scoped_session``'s ``remove()`` and a shared session's rollback happen
        even when another extension's teardown raises.
        """
        blueprint: Blueprint = super().create_blueprint(admin)
        blueprint.teardown_request(end_context_sessions)
        return blueprint

    def _run_view(
        self, fn: cabc.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any
    ) -> t.Any:
        """Run a view function, letting a ``TypeError`` raised inside it through.

        Flask-Admin calls ``fn(self, ...)`` and retries any ``TypeError`` as
        ``fn(cls=self, ...)``, the calling convention of views exposed with
        ``expose_plugview``. That retry would replace an error from the session
        source (a function returning the wrong type, or raising ``TypeError``
        itself) with an unrelated one. Here a pluggable view, recognised by the
        ``view_class`` that ``View.as_view`` sets even when ``decorators`` wrap
        it, is called with ``cls=`` directly; any other view is retried only
        when the call itself failed to bind its arguments.
        """
        if hasattr(fn, "view_class"):
            return fn(cls=self, **kwargs)

        try:
            return fn(self, *args, **kwargs)
        except TypeError as error:
            if error.__traceback__ is not None and error.__traceback__.tb_next:
                raise

            return fn(cls=self, **kwargs)

    def _session_in_context(self) -> orm.Session:
        """Return what :meth:`get_session` returned first in this app context."""
        return context_sessions(self._session_origin).session_for(
            self, self.get_session, self._session_origin
        )
