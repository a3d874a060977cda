"""The SQLAlchemy model view that resolves its session per request."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import functools
import typing as t

import jinja2
from flask import abort
from flask import Blueprint
from flask import flash
from flask import redirect
from flask_admin.contrib.sqla import view as sqla_view
from flask_admin.helpers import get_redirect_target
from sqlalchemy import orm
from wtforms import Form

from flask_admin import expose

from . import _concurrency
from ._context import context_session
from ._context import end_context_sessions
from ._proxy import SessionProxy
from ._resolver import _resolve
from ._resolver import SessionSource


def _unchecked(view: t.Any) -> cabc.Callable[[], t.Any]:
    """``view``, a base class's exposed view method bound to a view, without the
    wrapper Flask-Admin gives each one (the access check, ``_run_view``): an
    exposed override calling it has been through that wrapper already."""
    function = getattr(view.__func__, "__wrapped__", None)
    if function is None:
        return t.cast(cabc.Callable[[], t.Any], view)

    return functools.partial(function, view.__self__)


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

    concurrency_check: bool = True
    """Refuse a save or delete based on a row that changed since the page showed
    it, instead of writing over the other change. ``False`` turns it off. See
    :doc:`/guides/concurrent-edits`.
    """

    list_template = "admin/sqla_lite/list.html"
    """Flask-Admin's list template, extended to carry each row's state to inline
    edits and deletes. A custom list template should extend this one.
    """

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
        # An override may return a session the view must end.
        self._may_release = overridden or self.session_source.may_need_ending
        super().__init__(
            model,
            SessionProxy(
                self._session_in_context
                if overridden
                else self.session_source.session_getter
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
        return context_session(self, self.get_session, self._session_origin)

    def get_row_state(self, model: t.Any) -> dict[str, t.Any]:
        """Return the values whose change since display refuses a save.

        The default is every column attribute of the model that is not deferred.
        Override it to leave out a column others change all the time, for
        example::

            def get_row_state(self, model):
                state = super().get_row_state(model)
                del state["last_seen"]
                return state

        A model that maps ``version_id_col`` is compared by its version; these
        values then only name the changed fields in the message.
        """
        return _concurrency.column_values(model)

    def row_state(self, model: t.Any) -> str:
        """Return the signed state of ``model`` a page carries to its save."""
        return _concurrency.sign(self, model)

    def create_blueprint(self, admin: t.Any) -> Blueprint:
        """Create Flask-Admin's blueprint, which finds this package's templates
        too and releases the request's sessions.

        A blueprint's ``teardown_request`` functions run before the app's own
        teardown functions, so the sessions the view opened, a
        ``scoped_session``'s ``remove()`` and a shared session's rollback happen
        even when another extension's teardown raises. A view whose sessions
        all come from a Flask extension, which ends them itself, has none.
        """
        blueprint: Blueprint = super().create_blueprint(admin)
        if self._may_release:
            blueprint.teardown_request(end_context_sessions)
        loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader(__package__)]
        if blueprint.jinja_loader is not None:
            loaders.append(blueprint.jinja_loader)
        blueprint.jinja_loader = jinja2.ChoiceLoader(loaders)
        return blueprint

    def edit_form(self, obj: t.Any = None) -> Form:
        """Flask-Admin's edit form, with the row state field when checks are on."""
        form: Form = super().edit_form(obj)
        if self.concurrency_check:
            _concurrency.add_field(self, form, obj)
        return form

    def update_model(self, form: Form, model: t.Any) -> bool:
        """Save ``model`` unless the row changed since the form was displayed.

        A row deleted since then goes back to the list with a message, or, for an
        inline edit, answers ``409``.
        """
        states = _concurrency.submitted(form) if self.concurrency_check else None
        if states is None:
            saved: bool = super().update_model(form, model)
            return saved

        inline = _concurrency.FIELD not in form
        try:
            message = _concurrency.refusal(self, model, states)
        except _concurrency.RowGone:
            if inline:
                raise
            flash(_concurrency.GONE, "error")
            abort(redirect(get_redirect_target() or self.get_url(".index_view")))
        if message is not None:
            link = _concurrency.reload_link(self, model)
            flash(_concurrency.flash_message(message, link), "error")
            return False

        with (
            _concurrency.state_after_save(self, model)
            if inline
            else contextlib.nullcontext()
        ):
            saved = super().update_model(form, model)
        return saved

    def delete_model(self, model: t.Any) -> bool:
        """Delete ``model`` unless the row changed since the page displayed it."""
        states = _concurrency.submitted(None) if self.concurrency_check else None
        if states is not None:
            try:
                message = _concurrency.refusal(self, model, states)
            except _concurrency.RowGone:
                message = _concurrency.GONE
            if message is not None:
                flash(_concurrency.flash_message(message, None), "error")
                return False

        deleted: bool = super().delete_model(model)
        return deleted

    @expose("/ajax/update/", methods=("POST",))  # type: ignore[untyped-decorator]
    def ajax_update(self) -> t.Any:
        """Flask-Admin's inline edit, answering a refused save with ``409``."""
        return _concurrency.ajax_response(_unchecked(super().ajax_update))
