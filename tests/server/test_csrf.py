"""With ``SecureForm``, writes without a CSRF token change nothing and hold nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_admin.form import SecureForm

from flask_admin.contrib.sqla_lite import ModelView
from tests.server.harness import Admins
from tests.server.servers import Server

pytestmark = pytest.mark.server


class CsrfProtected(ModelView):
    """Every form of the view, actions and delete included, needs a CSRF token."""

    form_base_class = SecureForm


def people(server: Server) -> list[tuple[str, int]]:
    """Every person's name and score, read out of band."""
    with server.control.connect() as conn:
        query = sa.text("SELECT name, score FROM person ORDER BY name")
        return [(name, score) for name, score in conn.execute(query)]


def test_writes_without_token_do_nothing(
    admins: Admins, database: Server, source_id: str, seeded: dict[str, int]
) -> None:
    """Create, edit, delete and the bulk delete action without a token write
    nothing; the same create with the form's token writes."""
    admin = admins.build(source_id, mixins=(CsrfProtected,))
    client = admin.client()
    before = people(database)
    forged = (
        ("/admin/person/new/", {"name": "eve"}),
        (
            f"/admin/person/edit/?id={seeded['alice']}",
            {"name": "mallory", "score": "0"},
        ),
        ("/admin/person/delete/", {"id": str(seeded["bob"])}),
        (
            "/admin/person/action/",
            {"action": "delete", "rowid": [str(seeded["alice"]), str(seeded["bob"])]},
        ),
    )

    for url, data in forged:
        assert client.post(url, data=data).status_code in (200, 302), url
        admin.assert_released()

    assert people(database) == before

    form = client.get("/admin/person/new/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert match is not None
    response = client.post(
        "/admin/person/new/", data={"name": "eve", "csrf_token": match[1]}
    )
    assert response.status_code == 302
    admin.assert_released()
    assert people(database) == sorted([*before, ("eve", 0)])
