"""Requests do not see each other's unfinished work: what a failed request added
is never flushed by a later one, and objects do not carry over."""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa

from flask_admin.contrib.sqla_lite import ModelView
from tests.server.harness import Admins
from tests.server.servers import Server
from tests.sqla.models import Person

pytestmark = pytest.mark.server


class FailsAfterFlushing(ModelView):
    """Creating a person named ``ghost`` adds and flushes a second person, then
    fails with an error Flask-Admin does not catch."""

    def create_model(self, form: t.Any) -> t.Any:
        if form.name.data == "ghost":
            self.session.add(Person(name="ghost-friend"))
            self.session.flush()
            raise RuntimeError("The request failed after flushing.")

        return super().create_model(form)


def test_failed_request_leaves_nothing_to_flush(
    admins: Admins, database: Server, source_id: str, seeded: dict[str, int]
) -> None:
    """A request that flushed a new row and then failed leaves nothing behind:
    the next create on the same thread and view writes only its own row."""
    admin = admins.build(source_id, mixins=(FailsAfterFlushing,))
    client = admin.client()
    assert client.post("/admin/person/new/", data={"name": "ghost"}).status_code == 500
    admin.assert_released()
    assert client.post("/admin/person/new/", data={"name": "real"}).status_code == 302
    admin.assert_released()

    first, second = admin.log.sessions
    assert first is not second

    with database.control.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM person ORDER BY name"))
        assert list(names.scalars()) == ["alice", "bob", "real"]


def test_objects_are_detached_after_their_request(
    admins: Admins, source_id: str, seeded: dict[str, int]
) -> None:
    """An object loaded in one request is detached once it ends, and the next
    request loads its own copy."""
    loaded: list[Person] = []

    class RecordsLoaded(ModelView):
        def get_one(self, id: t.Any) -> t.Any:
            model = super().get_one(id)
            loaded.append(model)
            return model

    admin = admins.build(source_id, mixins=(RecordsLoaded,))
    client = admin.client()
    details = f"/admin/person/details/?id={seeded['alice']}"

    assert client.get(details).status_code == 200
    assert sa.inspect(loaded[0]).detached
    assert client.get(details).status_code == 200
    first, second = loaded
    assert second is not first
    assert sa.inspect(first).detached and sa.inspect(second).detached
    admin.assert_released()
