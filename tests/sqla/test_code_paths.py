"""Every code path of the view works with every per-request session source, and
leaves nothing checked out of the pool."""

from __future__ import annotations

import collections.abc as cabc
import csv
import io
import json

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from .admin_app import build_app
from .admin_app import build_views
from .sources import SourceSetup


def rows(engine: sa.Engine, query: str) -> list[tuple[object, ...]]:
    """Read rows out of band, the way another client sees them."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query))]


@pytest.fixture
def app(setup: SourceSetup) -> Flask:
    """The admin app, its views built before the app exists."""
    views = build_views(setup.source, setup.view_base, **setup.view_options)
    return build_app(setup, views)


@pytest.fixture
def client(app: Flask, setup: SourceSetup) -> cabc.Iterator[FlaskClient]:
    """A test client; after the test, nothing may be left checked out."""
    yield app.test_client()
    assert setup.engine_for(app).pool.checkedout() == 0  # type: ignore[attr-defined]


def test_list(client: FlaskClient, seeded: dict[str, int]) -> None:
    """The list shows every row with its related team."""
    body = client.get("/admin/person/").get_data(as_text=True)
    assert "alice" in body and "bob" in body and "red" in body


def test_count(client: FlaskClient, seeded: dict[str, int]) -> None:
    """The count query's result is shown on the list tab."""
    body = client.get("/admin/person/").get_data(as_text=True)
    assert "List (2)" in body


def test_search(client: FlaskClient, seeded: dict[str, int]) -> None:
    """Search narrows the list."""
    body = client.get("/admin/person/?search=ali").get_data(as_text=True)
    assert "alice" in body and "bob" not in body


def test_filter(client: FlaskClient, seeded: dict[str, int]) -> None:
    """A column filter narrows the list."""
    body = client.get("/admin/person/?flt0_0=bob").get_data(as_text=True)
    assert "bob" in body and "alice" not in body


def test_sort(client: FlaskClient, seeded: dict[str, int]) -> None:
    """Sorting by score descending puts the higher score first."""
    body = client.get("/admin/person/?sort=1&desc=1").get_data(as_text=True)
    assert body.index("alice") < body.index("bob")
    body = client.get("/admin/person/?sort=1").get_data(as_text=True)
    assert body.index("bob") < body.index("alice")


def test_details(client: FlaskClient, seeded: dict[str, int]) -> None:
    """The details page shows the row and its relationship."""
    response = client.get(f"/admin/person/details/?id={seeded['alice']}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "alice" in body and "red" in body


def test_create_with_ajax_and_inline(
    client: FlaskClient, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """Creating a person saves the ajax-chosen team and an inline address."""
    response = client.post(
        "/admin/person/new/",
        data={
            "name": "carol",
            "score": "5",
            "team": str(seeded["blue"]),
            "addresses-0-street": "Oak Rd",
        },
    )
    assert response.status_code == 302
    assert rows(
        out_of_band,
        "SELECT p.name, t.name, a.street FROM person p JOIN team t ON t.id = p.team_id"
        " JOIN address a ON a.person_id = p.id WHERE p.name = 'carol'",
    ) == [("carol", "blue", "Oak Rd")]


def test_edit(
    client: FlaskClient, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """Editing saves the change and keeps the inline address."""
    response = client.post(
        f"/admin/person/edit/?id={seeded['alice']}",
        data={
            "name": "alicia",
            "score": "4",
            "team": str(seeded["red"]),
            "addresses-0-id": "1",
            "addresses-0-street": "Elm Street",
        },
    )
    assert response.status_code == 302
    assert rows(out_of_band, "SELECT name, score FROM person ORDER BY id") == [
        ("alicia", 4),
        ("bob", 1),
    ]
    assert rows(out_of_band, "SELECT street FROM address") == [("Elm Street",)]


def test_edit_form(client: FlaskClient, seeded: dict[str, int]) -> None:
    """The edit form shows the row, its ajax-selected team and inline address."""
    body = client.get(f"/admin/person/edit/?id={seeded['alice']}").get_data(
        as_text=True
    )
    assert 'value="alice"' in body and "Elm St" in body and "red" in body


def test_delete(
    client: FlaskClient, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """Deleting removes the row."""
    response = client.post("/admin/person/delete/", data={"id": seeded["bob"]})
    assert response.status_code == 302
    assert rows(out_of_band, "SELECT name FROM person") == [("alice",)]


def test_bulk_delete_action(
    client: FlaskClient, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """The bulk delete action removes every selected row."""
    response = client.post(
        "/admin/person/action/",
        data={"action": "delete", "rowid": [seeded["alice"], seeded["bob"]]},
    )
    assert response.status_code == 302
    assert rows(out_of_band, "SELECT name FROM person") == []


def test_export(client: FlaskClient, seeded: dict[str, int]) -> None:
    """The streamed CSV export holds every row and its related team."""
    response = client.get("/admin/person/export/csv/")
    exported = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert exported == [
        ["Name", "Score", "Team"],
        ["alice", "3", "red"],
        ["bob", "1", "blue"],
    ]


def test_ajax_lookup(client: FlaskClient, seeded: dict[str, int]) -> None:
    """The ajax lookup of ``form_ajax_refs`` finds teams."""
    response = client.get("/admin/person/ajax/lookup/?name=team&query=re")
    assert json.loads(response.get_data(as_text=True)) == [[seeded["red"], "red"]]


def test_relationship_select_field(
    client: FlaskClient, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """A relationship select field lists the teams and saves the chosen one."""
    body = client.get("/admin/person_select/new/").get_data(as_text=True)
    assert ">red<" in body and ">blue<" in body
    response = client.post(
        "/admin/person_select/new/",
        data={"name": "dave", "score": "2", "team": str(seeded["red"])},
    )
    assert response.status_code == 302
    assert rows(
        out_of_band,
        "SELECT t.name FROM person p JOIN team t ON t.id = p.team_id"
        " WHERE p.name = 'dave'",
    ) == [("red",)]


def test_unique_validator(
    client: FlaskClient, seeded: dict[str, int], out_of_band: sa.Engine
) -> None:
    """The ``Unique`` validator refuses a taken name and accepts a new one."""
    response = client.post("/admin/team/new/", data={"name": "red"})
    assert response.status_code == 200
    assert "Already exists" in response.get_data(as_text=True)
    assert client.post("/admin/team/new/", data={"name": "green"}).status_code == 302
    assert rows(out_of_band, "SELECT name FROM team ORDER BY id") == [
        ("red",),
        ("blue",),
        ("green",),
    ]
