"""Two admins editing the same rows: the models, views and steps the concurrent
edit tests share on SQLite and on the servers."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import html
import re
import typing as t
import urllib.parse

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Column
from sqlalchemy import Integer
from sqlalchemy import orm
from sqlalchemy import String

from flask_admin.contrib.sqla_lite import ModelView

from .admin_app import build_app
from .models import Person
from .sources import SourceSetup

CONFLICT = "Someone else changed this record since it was displayed"
"""The start of the message of a refused save."""


EditsBase: t.Any = orm.declarative_base()
"""The declarative base of the models only these tests use, in the style that
works on SQLAlchemy 1.4 and 2.x."""


class Versioned(EditsBase):  # type: ignore[misc]
    """A row with SQLAlchemy's ``version_id_col`` and a counter."""

    __tablename__ = "versioned"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    counter = Column(Integer, nullable=False, default=0)
    version = Column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Pair(EditsBase):  # type: ignore[misc]
    """A row with a composite primary key."""

    __tablename__ = "pair"

    left = Column(Integer, primary_key=True, autoincrement=False)
    right = Column(String(20), primary_key=True)
    name = Column(String(50), nullable=False)


class EditableView(ModelView):
    """A view whose names are edited inline as well as in the form."""

    column_editable_list = ["name"]


class PersonView(EditableView):
    """People, their name and score."""

    form_columns = ["name", "score"]


class VersionedView(EditableView):
    """Versioned rows, their name and counter."""

    form_columns = ["name", "counter"]


class PairView(EditableView):
    """Rows with a composite key, their name."""

    form_columns = ["name"]


def build_edits_app(setup: SourceSetup, **attributes: t.Any) -> Flask:
    """An admin over people, versioned rows and pairs, from one session source;
    ``attributes`` are set on every view class."""
    views = [
        type(view_class.__name__, (view_class, setup.view_base), attributes)(
            model, setup.source, **setup.view_options
        )
        for view_class, model in (
            (PersonView, Person),
            (VersionedView, Versioned),
            (PairView, Pair),
        )
    ]
    return build_app(setup, views)


def seed_edits(engine: sa.Engine) -> None:
    """Create the tables of these tests' models, with one versioned row and one pair."""
    EditsBase.metadata.create_all(engine)
    with orm.Session(engine) as session:
        session.execute(sa.delete(Versioned))
        session.execute(sa.delete(Pair))
        session.add(Versioned(id=1, name="first", counter=0))
        session.add(Pair(left=1, right="a,b", name="first"))
        session.commit()


def name_of(engine: sa.Engine, model: type[t.Any], pk: t.Any) -> str:
    """The row's name as the database has it now."""
    with orm.Session(engine) as session:
        row = session.get(model, pk)
        return "(deleted)" if row is None else str(row.name)


def state_in(page: str) -> str:
    """The row state of an edit form page."""
    found = re.search(r'name="row_state" type="hidden" value="([^"]*)"', page)
    assert found is not None, "the edit form has no row state field"
    return html.unescape(found.group(1))


def list_states(page: str) -> dict[str, str]:
    """The row state of every row of a list page, by the row's primary key."""
    states = {}
    for row in page.split("<tr")[1:]:
        pk = re.search(r'name="rowid" class="action-checkbox" value="([^"]*)"', row)
        state = re.search(r'class="sqla-lite-row-state" value="([^"]*)"', row)
        if pk is not None and state is not None:
            states[html.unescape(pk.group(1))] = html.unescape(state.group(1))
    return states


@dataclasses.dataclass
class Admin:
    """One admin's browser on the test app: opens pages, submits what it saw."""

    client: FlaskClient
    endpoint: str
    pk: str

    @property
    def quoted(self) -> str:
        """The primary key as a URL argument."""
        return urllib.parse.quote(self.pk)

    def open_edit(self) -> str:
        """Open the edit form of the row; return its state."""
        response = self.client.get(f"/admin/{self.endpoint}/edit/?id={self.quoted}")
        assert response.status_code == 200
        return state_in(response.text)

    def save(self, data: dict[str, str], state: str | None) -> t.Any:
        """Submit the edit form with ``data`` and the state it was opened with."""
        form = dict(data)
        if state is not None:
            form["row_state"] = state
        return self.client.post(
            f"/admin/{self.endpoint}/edit/?id={self.quoted}&url=/admin/", data=form
        )

    def open_list(self) -> str:
        """Open the list page; return the row's state there."""
        response = self.client.get(f"/admin/{self.endpoint}/")
        assert response.status_code == 200
        return list_states(response.text)[self.pk]

    def save_inline(self, name: str, state: str | None) -> t.Any:
        """Change the row's name in the list, as the x-editable widget does."""
        form = {"list_form_pk": self.pk, "name": name}
        if state is not None:
            form["row_state"] = state
        return self.client.post(f"/admin/{self.endpoint}/ajax/update/", data=form)

    def delete(self, state: str | None) -> t.Any:
        """Press the row's delete button on the list page."""
        form = {"id": self.pk, "url": f"/admin/{self.endpoint}/"}
        if state is not None:
            form["row_state"] = state
        return self.client.post(
            f"/admin/{self.endpoint}/delete/", data=form, follow_redirects=True
        )

    def delete_selected(self, states: dict[str, str]) -> t.Any:
        """Select rows on the list page and run the delete action."""
        form = {
            "action": "delete",
            "rowid": list(states),
            "row_state": list(states.values()),
        }
        return self.client.post(
            f"/admin/{self.endpoint}/action/", data=form, follow_redirects=True
        )


def two_admins(app: Flask, endpoint: str, pk: str) -> tuple[Admin, Admin]:
    """Two admins with clients of their own, on the same row."""
    return Admin(app.test_client(), endpoint, pk), Admin(
        app.test_client(), endpoint, pk
    )


ROWS: dict[str, tuple[type[t.Any], t.Any, str]] = {
    "person": (Person, None, ""),
    "versioned": (Versioned, 1, "1"),
    "pair": (Pair, (1, "a,b"), "1,a.,b"),
}
"""By endpoint: the model, the row's primary key and its key in the admin's URLs;
the person's key comes from the ``seeded`` fixture."""


def row_keys(endpoint: str, seeded: dict[str, int]) -> tuple[t.Any, str]:
    """The primary key of the row edited on ``endpoint`` and its key in URLs."""
    if endpoint == "person":
        return seeded["bob"], str(seeded["bob"])
    _, pk, key = ROWS[endpoint]
    return pk, key


def form_data(endpoint: str, name: str) -> dict[str, str]:
    """The edit form of ``endpoint`` with ``name`` and the other fields as seeded."""
    return {
        "person": {"name": name, "score": "3"},
        "versioned": {"name": name, "counter": "0"},
        "pair": {"name": name},
    }[endpoint]


def first_save_wins(
    app: Flask, engine: sa.Engine, endpoint: str, pk: t.Any, key: str
) -> None:
    """A and B open the form; A saves, B is refused with the message and keeps its
    input; B reloads and saves; saving unchanged data twice is no conflict."""
    model = ROWS[endpoint][0]
    a, b = two_admins(app, endpoint, key)
    seen_by_a, seen_by_b = a.open_edit(), b.open_edit()

    assert a.save(form_data(endpoint, "ann"), seen_by_a).status_code == 302
    refused = b.save(form_data(endpoint, "ben"), seen_by_b)

    assert refused.status_code == 200
    assert CONFLICT in refused.text
    assert "name (now &#39;ann&#39;)" in refused.text
    assert 'value="ben"' in refused.text
    assert "Reload the record" in refused.text
    assert name_of(engine, model, pk) == "ann"

    reloaded = b.open_edit()
    assert b.save(form_data(endpoint, "ben"), reloaded).status_code == 302
    assert name_of(engine, model, pk) == "ben"

    again = a.open_edit()
    assert a.save(form_data(endpoint, "ben"), again).status_code == 302
    assert a.save(form_data(endpoint, "ben"), again).status_code == 302


def first_inline_save_wins(
    app: Flask, engine: sa.Engine, endpoint: str, pk: t.Any, key: str
) -> None:
    """Inline edits from two list pages: the second is refused with ``409`` and the
    message; the state the first got back lets it save again."""
    model = ROWS[endpoint][0]
    a, b = two_admins(app, endpoint, key)
    seen_by_a, seen_by_b = a.open_list(), b.open_list()

    saved = a.save_inline("ann", seen_by_a)
    assert saved.status_code == 200
    refused = b.save_inline("ben", seen_by_b)

    assert refused.status_code == 409
    assert CONFLICT in refused.text
    assert name_of(engine, model, pk) == "ann"
    assert a.save_inline("carol", saved.json["row_state"]).status_code == 200
    assert b.save_inline("ben", b.open_list()).status_code == 200
    assert name_of(engine, model, pk) == "ben"


def changed_row_is_not_deleted(
    app: Flask, engine: sa.Engine, endpoint: str, pk: t.Any, key: str, bulk: bool = True
) -> None:
    """B's delete, single and ``bulk``, of a row A changed since B's list page
    showed it is refused; after a reload it deletes."""
    model = ROWS[endpoint][0]
    a, b = two_admins(app, endpoint, key)
    seen_by_b = b.open_list()
    assert a.save_inline("ann", a.open_list()).status_code == 200

    refused = b.delete(seen_by_b)
    assert CONFLICT in refused.text
    if bulk:
        refused = b.delete_selected({key: seen_by_b})
        assert CONFLICT in refused.text
    assert name_of(engine, model, pk) == "ann"

    reloaded = b.open_list()
    deleted = b.delete_selected({key: reloaded}) if bulk else b.delete(reloaded)
    assert "Record was successfully deleted." in deleted.text
    assert name_of(engine, model, pk) == "(deleted)"


def count_statements(setup: SourceSetup, bob: int, checked: bool) -> dict[str, int]:
    """Statements each kind of request sends to the database, with the check on
    or off: person ``bob`` is saved, saved inline, then deleted."""
    app = build_edits_app(setup, concurrency_check=checked)
    client = app.test_client()
    statements: list[object] = []
    sa.event.listen(
        setup.engine_for(app),
        "before_cursor_execute",
        lambda *args: statements.append(args[2]),
    )
    edit = f"/admin/person/edit/?id={bob}"

    def state(page: str, inline: bool = False) -> dict[str, str]:
        if not checked:
            return {}
        return {"row_state": list_states(page)[str(bob)] if inline else state_in(page)}

    def counted(send: cabc.Callable[[], t.Any]) -> int:
        statements.clear()
        assert send().status_code in (200, 302)
        return len(statements)

    form = client.get(edit).text
    counts = {
        "list page": counted(lambda: client.get("/admin/person/")),
        "edit form": counted(lambda: client.get(edit)),
        "save": counted(
            lambda: client.post(
                edit, data={**form_data("person", "ben"), **state(form)}
            )
        ),
    }
    listed = client.get("/admin/person/").text
    counts["inline save"] = counted(
        lambda: client.post(
            "/admin/person/ajax/update/",
            data={"list_form_pk": str(bob), "name": "bo", **state(listed, True)},
        )
    )
    listed = client.get("/admin/person/").text
    counts["delete"] = counted(
        lambda: client.post(
            "/admin/person/delete/", data={"id": str(bob), **state(listed, True)}
        )
    )
    return counts
