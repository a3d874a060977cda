"""Flask-SQLAlchemy-Lite extras: named sessions and several engines."""

from __future__ import annotations

import pathlib

import pytest

from ..optional import LITE_MISSING

pytest.importorskip("flask_sqlalchemy_lite", reason=LITE_MISSING)

import flask_sqlalchemy_lite
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import ModelView

from .admin_app import build_app
from .models import Team
from .sources import SourceSetup


class OtherBase(orm.DeclarativeBase):
    """Models stored through the second engine."""


class Note(OtherBase):
    """A note, kept in the other database."""

    __tablename__ = "note"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    text: orm.Mapped[str] = orm.mapped_column(sa.String(100))


def lite_app(
    db: flask_sqlalchemy_lite.SQLAlchemy,
    engines: dict[str, str],
    views: list[ModelView],
) -> Flask:
    """An admin app over ``db`` with the given engines."""

    def init_app(app: Flask) -> None:
        app.config["SQLALCHEMY_ENGINES"] = engines
        db.init_app(app)

    return build_app(
        SourceSetup(db, init_app, lambda app: db.engine, lambda: None), views
    )


def dispose(app: Flask, db: flask_sqlalchemy_lite.SQLAlchemy) -> None:
    """Dispose the app's engines."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.mark.parametrize(
    ("session_name", "committed"),
    ((None, ["from-admin", "from-app"]), ("admin", ["from-admin"])),
    ids=("default-session", "named-session"),
)
def test_named_session_keeps_app_work_apart(
    session_name: str | None,
    committed: list[str],
    db_url: str,
    out_of_band: sa.Engine,
) -> None:
    """With a named session the admin's commit leaves the app's pending work in
    the same request alone; with the default session it commits it too."""
    db = flask_sqlalchemy_lite.SQLAlchemy()
    view = ModelView(Team, db, session_name=session_name)
    app = lite_app(db, {"default": db_url}, [view])

    @app.before_request
    def app_work() -> None:
        db.session.add(Team(name="from-app"))

    response = app.test_client().post("/admin/team/new/", data={"name": "from-admin"})
    assert response.status_code == 302

    with out_of_band.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM team ORDER BY id")).scalars()
        assert sorted(names) == committed

    dispose(app, db)


def test_models_bound_to_a_second_engine(tmp_path: pathlib.Path, db_url: str) -> None:
    """A model bound to another engine through ``session_options["binds"]`` is
    listed and created in that engine's database."""
    other_url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    other = sa.create_engine(other_url)
    OtherBase.metadata.create_all(other)
    db = flask_sqlalchemy_lite.SQLAlchemy(
        session_options={"binds": {OtherBase: "other"}}
    )
    views = [ModelView(Note, db), ModelView(Team, db)]
    app = lite_app(db, {"default": db_url, "other": other_url}, views)
    client = app.test_client()

    assert client.post("/admin/note/new/", data={"text": "hello"}).status_code == 302
    assert client.post("/admin/team/new/", data={"name": "red"}).status_code == 302
    assert "hello" in client.get("/admin/note/").get_data(as_text=True)

    with other.connect() as conn:
        assert conn.execute(sa.text("SELECT text FROM note")).scalars().all() == [
            "hello"
        ]

    dispose(app, db)
    other.dispose()
