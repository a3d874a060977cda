"""Refusing a save or delete based on a row that changed since it was displayed.

A page that can change a row carries the row's *state* as it was displayed: a
token signed with the app's ``SECRET_KEY`` holding the primary key, the
``version_id_col`` value when the model maps one, and a short digest of each
value of :meth:`ModelView.get_row_state`. On save, in the transaction of the
write, the row is read again, locked where the database can, and compared.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import hashlib
import typing as t

import itsdangerous
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from markupsafe import escape
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect
from sqlalchemy import orm
from wtforms import Form
from wtforms.fields import HiddenField

if t.TYPE_CHECKING:
    from ._view import ModelView

FIELD = "row_state"
"""The name of the form field and request parameter carrying a row state."""

_SALT = "flask_admin.contrib.sqla_lite.row_state"
_G_CONFLICT = "_flask_admin_sqla_lite_conflict"
_G_SAVED = "_flask_admin_sqla_lite_saved_state"
_SHOWN_LENGTH = 80
_INVALID = "invalid"


class RowStateField(HiddenField):  # type: ignore[misc]
    """The hidden edit form field carrying the row state; never saved on the model."""

    def populate_obj(self, obj: object, name: str) -> None:
        """Leave the model alone: the state is not one of its attributes."""


def column_values(model: object) -> dict[str, t.Any]:
    """Return the model's column attribute values, deferred columns left out."""
    mapper = inspect(model).mapper
    return {
        attr.key: getattr(model, attr.key)
        for attr in mapper.column_attrs
        if not attr.deferred
    }


def _digest(value: object) -> str:
    return hashlib.blake2b(repr(value).encode(), digest_size=6).hexdigest()


def _serializer() -> itsdangerous.URLSafeSerializer:
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError(
            "Detecting concurrent edits signs the row state with the app's"
            " 'SECRET_KEY', which is not set. Set 'SECRET_KEY', or set"
            " 'concurrency_check = False' on the view."
        )

    return itsdangerous.URLSafeSerializer(secret, salt=_SALT)


def _version(model: object) -> t.Any:
    mapper = inspect(model).mapper
    if mapper.version_id_col is None:
        return None

    prop = mapper.get_property_by_column(mapper.version_id_col)
    return getattr(model, prop.key)


def _payload(view: ModelView, model: object) -> list[t.Any]:
    identity = inspect(model).mapper.primary_key_from_instance(model)
    digests = {key: _digest(value) for key, value in view.get_row_state(model).items()}
    return [[str(part) for part in identity], _version(model), digests]


def sign(view: ModelView, model: object) -> str:
    """Return the signed state of ``model`` as it is now, for a page to carry.

    Without a ``SECRET_KEY`` the page carries nothing, and its saves are not
    checked; Flask-Admin's flashed messages need the key anyway.
    """
    if not current_app.config.get("SECRET_KEY"):
        return ""

    return _serializer().dumps(_payload(view, model))


def add_field(view: ModelView, form: Form, model: object | None) -> None:
    """Add the state field to an edit form: the submitted state, or ``model``'s.

    The form's rules are checked first, as Flask-Admin's edit view would, so that
    the field, which no rule names, is not removed from the form.
    """
    if not getattr(form, "_validated_ruleset", False):
        view._validate_form_instance(ruleset=view._form_edit_rules, form=form)
        form._validated_ruleset = True

    field = form.meta.bind_field(
        form, RowStateField(), {"name": FIELD, "prefix": form._prefix}
    )
    form._fields[FIELD] = field
    setattr(form, FIELD, field)
    if has_request_context() and request.method == "POST":
        field.process(request.form)
    else:
        field.process(None, "" if model is None else sign(view, model))


def submitted(form: Form | None) -> dict[str, str] | None:
    """Return the submitted states by primary key, ``None`` if the request has none.

    The edit form's own field is read when the form has one; otherwise every
    ``row_state`` value of the request (the list page sends one per row). A
    request without any, from a page or script that predates the check, is not
    checked, as before.
    """
    if form is not None and FIELD in form:
        tokens = [form[FIELD].data]
    else:
        tokens = request.form.getlist(FIELD)

    states: dict[str, str] = {}
    for token in tokens:
        if not token:
            continue
        try:
            identity = _serializer().loads(token)[0]
        except (itsdangerous.BadData, IndexError, KeyError, TypeError):
            states[_INVALID] = token
        else:
            states[repr(identity)] = token

    return states or None


def refusal(view: ModelView, model: object, states: dict[str, str]) -> str | None:
    """Compare the submitted state of ``model`` with the row as it is now.

    Reads the row's columns again, ``SELECT ... FOR UPDATE`` where the database
    supports it, in the session's transaction, so nobody changes it between the
    comparison and the write. Returns ``None`` when the save may proceed, else
    the message to show; the transaction is then rolled back.
    """
    serializer = _serializer()
    identity = [
        str(part) for part in inspect(model).mapper.primary_key_from_instance(model)
    ]
    token = states.get(repr(identity))
    session = orm.object_session(model)
    assert session is not None
    try:
        session.refresh(
            model,
            attribute_names=[attr.key for attr in inspect(model).mapper.column_attrs],
            with_for_update=True,
        )
    except sa_exc.InvalidRequestError:
        message = (
            "This record was deleted by someone else since it was displayed;"
            " nothing was saved."
        )
        return _refuse(session, message)

    if token is None and _INVALID in states:
        token = states[_INVALID]
    if token is None:
        message = (
            "This change does not say what the record was when it was displayed."
            " Nothing was saved: reload the page and make the change again."
        )
        return _refuse(session, message)

    try:
        was = serializer.loads(token)
    except itsdangerous.BadData:
        return _refuse(
            session,
            "The record state sent with this change is not valid (was the page"
            " altered?). Nothing was saved: reload the record and try again.",
        )

    now = _payload(view, model)
    versioned = now[1] is not None
    if was[0] == now[0] and (was[1] == now[1] if versioned else was[2] == now[2]):
        return None

    changed = sorted(
        key for key in set(was[2]) | set(now[2]) if was[2].get(key) != now[2].get(key)
    )
    return _refuse(session, _changed_message(view, model, changed))


def _changed_message(view: ModelView, model: object, changed: list[str]) -> str:
    """Name the changed fields, with the current value of those the view shows."""
    shown = {name for name, _ in view._list_columns}
    shown.update(name for name in changed if hasattr(view._edit_form_class, name))
    described = ", ".join(
        f"{key} (now {_shorten(getattr(model, key))})" if key in shown else key
        for key in changed
    )
    message = (
        "Someone else changed this record since it was displayed, so your changes"
        " were not saved."
    )
    if described:
        message += f" Changed: {described}."
    return message


def _shorten(value: object) -> str:
    text = "empty" if value is None else repr(value)
    if len(text) > _SHOWN_LENGTH:
        return text[: _SHOWN_LENGTH - 1] + "…"
    return text


def _refuse(session: orm.Session, message: str) -> str:
    session.rollback()
    setattr(g, _G_CONFLICT, message)
    return message


@contextlib.contextmanager
def state_after_save(view: ModelView, model: object) -> cabc.Iterator[None]:
    """Keep the state of the row a save inside the block commits, for the list
    page to carry on with.

    It is taken just before the commit, once the changes are flushed, so that
    reading it does not take a query after the commit expires the row.
    """
    session = orm.object_session(model)

    def keep(session: orm.Session) -> None:
        session.flush()
        setattr(g, _G_SAVED, sign(view, model))

    event.listen(session, "before_commit", keep)
    try:
        yield
    finally:
        event.remove(session, "before_commit", keep)


def ajax_response(response: t.Any) -> t.Any:
    """Return Flask-Admin's inline edit response, adjusted for row states.

    A refused save answers ``409`` with the message, which the widget shows; a
    save that carried a state answers with the row's new state as JSON.
    """
    message = getattr(g, _G_CONFLICT, None)
    if message is not None:
        return message, 409

    state = getattr(g, _G_SAVED, None)
    if state is not None and isinstance(response, str):
        return {"message": response, FIELD: state}

    return response


def reload_link(view: ModelView, model: object) -> Markup:
    """Return the flashed message's link to the edit form with current values."""
    url = view.get_url(
        ".edit_view", id=view.get_pk_value(model), url=request.args.get("url")
    )
    return Markup(
        ' <a href="{}">Reload the record</a> to see its current values.'
    ).format(url)


def flash_message(message: str, link: Markup | None) -> Markup:
    """Return the message as the page shows it, escaped, with the reload link."""
    return escape(message) + (link or "")
