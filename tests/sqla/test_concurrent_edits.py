"""Two admins saving the same row on SQLite: the first save wins, the second is
refused with a message, never written over the first."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import request
from flask_admin.form import rules

from flask_admin.contrib.sqla_lite import ModelView

from .admin_app import build_app
from .concurrent_edits import build_edits_app
from .concurrent_edits import changed_row_is_not_deleted
from .concurrent_edits import CONFLICT
from .concurrent_edits import count_statements
from .concurrent_edits import first_inline_save_wins
from .concurrent_edits import first_save_wins
from .concurrent_edits import form_data
from .concurrent_edits import list_states
from .concurrent_edits import name_of
from .concurrent_edits import PersonView
from .concurrent_edits import row_keys
from .concurrent_edits import ROWS
from .concurrent_edits import seed_edits
from .concurrent_edits import state_in
from .concurrent_edits import two_admins
from .concurrent_edits import Versioned
from .concurrent_edits import VersionedView
from .models import Person
from .sources import SOURCES
from .sources import SourceSetup

SCENARIOS = [first_save_wins, first_inline_save_wins, changed_row_is_not_deleted]


@pytest.fixture
def sessionmaker_setup(db_url: str) -> cabc.Iterator[SourceSetup]:
    """A ``sessionmaker`` source on the test's SQLite file."""
    setup = SOURCES["sessionmaker"](db_url)
    yield setup
    setup.dispose()


@pytest.fixture
def app(
    sessionmaker_setup: SourceSetup, out_of_band: sa.Engine, seeded: dict[str, int]
) -> Flask:
    """The admin over the person, versioned and pair views, rows seeded."""
    seed_edits(out_of_band)
    return build_edits_app(sessionmaker_setup)


def test_person_from_every_source(
    setup: SourceSetup, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """Every session source refuses the second of two saves of one row."""
    app = build_edits_app(setup)
    alice = seeded["alice"]
    first_save_wins(app, out_of_band, "person", alice, str(alice))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("endpoint", sorted(ROWS))
def test_first_save_wins(
    app: Flask,
    out_of_band: sa.Engine,
    seeded: dict[str, int],
    endpoint: str,
    scenario: cabc.Callable[..., None],
) -> None:
    """Plain, versioned and composite key rows: forms, inline edits and deletes."""
    pk, key = row_keys(endpoint, seeded)
    scenario(app, out_of_band, endpoint, pk, key)


def test_access_checked_once_per_request(
    sessionmaker_setup: SourceSetup,
    out_of_band: sa.Engine,
    seeded: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Saving the edit form and saving inline, whose views the check overrides,
    run the view's access check once per request, as Flask-Admin's other views
    do. (A page that shows the menu asks again for the view's menu item.)"""
    seed_edits(out_of_band)
    app = build_edits_app(sessionmaker_setup)
    saves_checked: list[str] = []

    def is_accessible(view: ModelView) -> bool:
        if request.method == "POST":
            saves_checked.append(request.path)
        return True

    monkeypatch.setattr(PersonView, "is_accessible", is_accessible)
    admin = two_admins(app, "person", str(seeded["bob"]))[0]

    assert admin.save(form_data("person", "ann"), admin.open_edit()).status_code == 302
    assert admin.save_inline("ben", admin.open_list()).status_code == 200
    assert saves_checked == ["/admin/person/edit/", "/admin/person/ajax/update/"]


def test_tampered_state_is_refused(
    app: Flask, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """A state that was altered is refused; nothing is saved."""
    a, _ = two_admins(app, "versioned", "1")
    state = a.open_edit()
    tampered = state[:-2] + ("AA" if not state.endswith("AA") else "BB")

    refused = a.save(form_data("versioned", "mallory"), tampered)

    assert "is not valid (was the page altered?)" in refused.text
    assert a.save_inline("mallory", tampered).status_code == 409
    assert name_of(out_of_band, ROWS["versioned"][0], 1) == "first"


def test_missing_state(
    app: Flask, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """A save, inline edit or delete request without any state, from a page or a
    script that predates the check, is not checked, as before."""
    a, _ = two_admins(app, "versioned", "1")

    assert a.save(form_data("versioned", "old form"), None).status_code == 302
    assert name_of(out_of_band, Versioned, 1) == "old form"
    assert a.save_inline("script", None).status_code == 200
    assert name_of(out_of_band, Versioned, 1) == "script"
    assert "successfully deleted" in a.delete(None).text
    assert name_of(out_of_band, Versioned, 1) == "(deleted)"


def test_bulk_delete_without_a_row_state(
    app: Flask, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """A bulk delete that carries states, but none for one of its rows, keeps that
    row and says why."""
    a, _ = two_admins(app, "person", str(seeded["alice"]))
    states = {str(seeded["alice"]): a.open_list()}
    response = a.client.post(
        "/admin/person/action/",
        data={
            "action": "delete",
            "rowid": [str(seeded["alice"]), str(seeded["bob"])],
            "row_state": list(states.values()),
        },
        follow_redirects=True,
    )

    assert "does not say what the record was" in response.text
    assert name_of(out_of_band, Person, seeded["alice"]) == "(deleted)"
    assert name_of(out_of_band, Person, seeded["bob"]) == "bob"


def test_row_deleted_since_opened(
    app: Flask, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """Saving a row deleted since the form was opened says so and inserts nothing."""
    a, _ = two_admins(app, "person", str(seeded["bob"]))
    state = a.open_edit()
    with out_of_band.begin() as conn:
        conn.execute(sa.delete(Person).where(Person.id == seeded["bob"]))

    response = a.client.post(
        f"/admin/person/edit/?id={seeded['bob']}",
        data={**form_data("person", "bob"), "row_state": state},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Record does not exist." in response.text
    assert name_of(out_of_band, Person, seeded["bob"]) == "(deleted)"


def test_off(
    sessionmaker_setup: SourceSetup, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """With ``concurrency_check = False`` the forms carry no state and the last
    save wins, as in Flask-Admin."""
    seed_edits(out_of_band)
    app = build_edits_app(sessionmaker_setup, concurrency_check=False)
    a, b = two_admins(app, "versioned", "1")
    page = a.client.get("/admin/versioned/edit/?id=1").text

    assert "row_state" not in page
    assert a.save(form_data("versioned", "alice"), None).status_code == 302
    assert b.save(form_data("versioned", "bob"), None).status_code == 302
    assert name_of(out_of_band, ROWS["versioned"][0], 1) == "bob"
    assert CONFLICT not in b.client.get("/admin/versioned/").text


def test_modal_and_rules(
    sessionmaker_setup: SourceSetup, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """The modal edit form and a form laid out by ``form_edit_rules`` carry the
    state too, and refuse the second save."""
    seed_edits(out_of_band)
    view_class = type(
        "RulesView",
        (VersionedView,),
        {
            "edit_modal": True,
            "form_edit_rules": [rules.Header("Versioned"), "name", "counter"],
        },
    )
    app = build_app(
        sessionmaker_setup, [view_class(Versioned, sessionmaker_setup.source)]
    )
    a, b = two_admins(app, "versioned", "1")
    modal = a.client.get("/admin/versioned/edit/?id=1&modal=True").text
    page = b.client.get("/admin/versioned/edit/?id=1").text
    seen_by_b = state_in(page)

    assert 'class="modal-body"' in modal
    assert "<h3>Versioned</h3>" in page
    assert a.save(form_data("versioned", "ann"), state_in(modal)).status_code == 302
    refused = b.save(form_data("versioned", "ben"), seen_by_b)
    assert CONFLICT in refused.text
    assert "<h3>Versioned</h3>" in refused.text
    assert name_of(out_of_band, Versioned, 1) == "ann"


def test_statements(
    sessionmaker_setup: SourceSetup, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """Pages that do not save send no extra statement; a save, inline save or
    delete sends one, the locked read."""
    bob = seeded["bob"]
    off = count_statements(sessionmaker_setup, bob, False)
    with out_of_band.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO person (id, name, score) VALUES (:id, 'bob', 1)"),
            {"id": bob},
        )
    on = count_statements(sessionmaker_setup, bob, True)

    extra = {page: on[page] - off[page] for page in on}
    assert extra == {
        "list page": 0,
        "edit form": 0,
        "save": 1,
        "inline save": 1,
        "delete": 1,
    }


def test_hidden_values_are_not_shown(
    app: Flask, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """A changed column the view neither lists nor edits is named, its value not
    shown."""
    a, _ = two_admins(app, "person", str(seeded["alice"]))
    state = a.open_edit()
    with out_of_band.begin() as conn:
        conn.execute(
            sa.update(Person)
            .where(Person.id == seeded["alice"])
            .values(team_id=seeded["blue"], score=7)
        )

    refused = a.save(form_data("person", "ann"), state)

    assert "Changed: score (now 7), team_id." in refused.text


def test_row_deleted_while_saving(
    sessionmaker_setup: SourceSetup, out_of_band: sa.Engine, seeded: dict[str, int]
) -> None:
    """A row deleted after the save loaded it, before the locked read, is reported
    as deleted; nothing is written or inserted."""
    seed_edits(out_of_band)

    class DeletedMeanwhile(VersionedView):
        def get_one(self, id: str) -> t.Any:
            model = super().get_one(id)
            if request.method == "POST":
                with out_of_band.begin() as conn:
                    conn.execute(sa.delete(Versioned))
            return model

    app = build_app(
        sessionmaker_setup, [DeletedMeanwhile(Versioned, sessionmaker_setup.source)]
    )
    a, _ = two_admins(app, "versioned", "1")

    refused = a.save(form_data("versioned", "ann"), a.open_edit())
    page = a.client.get(refused.location).text
    with out_of_band.begin() as conn:
        conn.execute(sa.insert(Versioned).values(id=1, name="again", version=1))
    inline = a.save_inline(
        "ann", list_states(a.client.get("/admin/versioned/").text)["1"]
    )

    assert refused.status_code == 302
    assert "This record was deleted by someone else" in page
    assert name_of(out_of_band, Versioned, 1) == "(deleted)"
    assert inline.status_code == 409
    assert "This record was deleted by someone else" in inline.text
