"""Refusing a save or delete based on a row that changed since it was displayed.

A page that can change a row carries the row's *state* as it was displayed: a
token holding the primary key, a digest of the ``version_id_col`` value when the
model maps one, and a short digest of each value of
:meth:`ModelView.get_row_state`, signed with a key derived from ``SECRET_KEY``.
On save, in the transaction of the write, the row is read again, locked where
the database can, and compared.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import functools
import hashlib
import hmac
import typing as t
import zlib

from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from flask_admin.contrib.sqla import tools
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

_PERSON = b"sqla_lite.state"
"""Sets the signing key apart from other keys derived from ``SECRET_KEY``."""
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


class _State(t.NamedTuple):
    """What a page saw of a row: short digests, compared, never shown."""

    identity: str
    """The primary key, encoded as in Flask-Admin's URLs."""

    version: str
    """The digest of the ``version_id_col`` value, empty when none is mapped."""

    digests: tuple[str, ...]
    """The digest of each :meth:`ModelView.get_row_state` value, in its order."""

    def text(self) -> str:
        """The state as the text that is signed."""
        return f"{self.identity}|{self.version}|{'.'.join(self.digests)}"

    @classmethod
    def parse(cls, text: str) -> _State:
        """Read :meth:`text` back; the identity may hold ``|``, the rest cannot."""
        identity, version, digests = text.rsplit("|", 2)
        return cls(identity, version, tuple(digests.split(".")) if digests else ())


def _digest(value: object) -> str:
    # Detects a change, secures nothing: the MAC over all digests does that.
    return f"{zlib.crc32(repr(value).encode()):08x}"


def _identity(model: object, mapper: orm.Mapper[t.Any]) -> str:
    parts = mapper.primary_key_from_instance(model)
    if len(parts) == 1:
        return str(parts[0])
    return t.cast(str, tools.iterencode(parts))


def _state(view: ModelView, model: object) -> tuple[_State, list[str]]:
    """Return the state of ``model`` as it is now, and the names of its values."""
    mapper = inspect(model).mapper
    version = ""
    if mapper.version_id_col is not None:
        prop = mapper.get_property_by_column(mapper.version_id_col)
        version = _digest(getattr(model, prop.key))
    values = view.get_row_state(model)
    digests = tuple(_digest(value) for value in values.values())
    return _State(_identity(model, mapper), version, digests), list(values)


@functools.lru_cache(maxsize=4)
def _key_for(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode()
    return hashlib.blake2b(secret, digest_size=32, person=_PERSON).digest()


def _key() -> bytes:
    """Return the signing key derived from ``SECRET_KEY``."""
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError(
            "Detecting concurrent edits signs the row state with the app's"
            " 'SECRET_KEY', which is not set. Set 'SECRET_KEY', or set"
            " 'concurrency_check = False' on the view."
        )

    return _key_for(secret)


def _mac(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16, key=_key()).hexdigest()


def sign(view: ModelView, model: object) -> str:
    """Return the signed state of ``model`` as it is now, for a page to carry.

    Without a ``SECRET_KEY`` the page carries nothing, and its saves are not
    checked; Flask-Admin's flashed messages need the key anyway.
    """
    if not current_app.config.get("SECRET_KEY"):
        return ""

    text = _state(view, model)[0].text()
    return f"{text}|{_mac(text)}"


GONE = (
    "This record was deleted by someone else since it was displayed; nothing was saved."
)


class RowGone(Exception):
    """The row was deleted since it was displayed: there is no form to show again."""


class BadState(ValueError):
    """A submitted row state that was not made by :func:`sign` with this key."""


def _unsign(token: str) -> _State:
    """Return the state ``token`` carries; raise :class:`BadState` if it was altered."""
    text, _, mac = token.rpartition("|")
    if not hmac.compare_digest(mac, _mac(text)):
        raise BadState(token)

    try:
        return _State.parse(text)
    except ValueError as error:
        raise BadState(token) from error


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
            states[_unsign(token).identity] = token
        except BadState:
            states[_INVALID] = token

    return states or None


def refusal(view: ModelView, model: object, states: dict[str, str]) -> str | None:
    """Compare the submitted state of ``model`` with the row as it is now.

    Reads the row's columns again, ``SELECT ... FOR UPDATE`` where the database
    supports it, in the session's transaction, so nobody changes it between the
    comparison and the write. Returns ``None`` when the save may proceed, else
    the message to show; the transaction is then rolled back. Raises
    :class:`RowGone` when the row no longer exists.
    """
    token = states.get(_identity(model, inspect(model).mapper))
    session = orm.object_session(model)
    assert session is not None
    try:
        session.refresh(
            model,
            attribute_names=[attr.key for attr in inspect(model).mapper.column_attrs],
            with_for_update=True,
        )
    except sa_exc.InvalidRequestError as error:
        raise RowGone(_refuse(session, GONE)) from error

    if token is None and _INVALID in states:
        token = states[_INVALID]
    if token is None:
        message = (
            "This change does not say what the record was when it was displayed."
            " Nothing was saved: reload the page and make the change again."
        )
        return _refuse(session, message)

    try:
        was = _unsign(token)
    except BadState:
        return _refuse(
            session,
            "The record state sent with this change is not valid (was the page"
            " altered?). Nothing was saved: reload the record and try again.",
        )

    now, keys = _state(view, model)
    if was.identity == now.identity and (
        was.version == now.version if now.version else was.digests == now.digests
    ):
        return None

    if len(was.digests) == len(now.digests):
        changed = [
            key
            for key, before, after in zip(keys, was.digests, now.digests, strict=True)
            if before != after
        ]
    else:
        changed = keys
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


def ajax_response(respond: cabc.Callable[[], t.Any]) -> t.Any:
    """Return Flask-Admin's inline edit response, adjusted for row states.

    A refused save answers ``409`` with the message, which the widget shows; a
    save that carried a state answers with the row's new state as JSON.
    """
    try:
        response = respond()
    except RowGone:
        return GONE, 409

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
