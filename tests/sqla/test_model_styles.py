"""The test models in SQLAlchemy 1.4 style also work on 2.x, and 2.0 style on 2.x."""

from __future__ import annotations

import pathlib

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView

from . import models_classic

try:
    from flask_babel import Babel
except ImportError:  # pragma: no cover - Flask-Admin needs Babel only if installed
    Babel = None


def test_classic_models_create_and_list(tmp_path: pathlib.Path) -> None:
    """Views over ``declarative_base()``/``Column`` models create and list rows,
    and leave no connection checked out."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'classic.sqlite3'}")
    models_classic.Base.metadata.create_all(engine)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)

    if Babel is not None:
        Babel(app)

    admin = Admin(app)
    admin.add_view(ModelView(models_classic.Team, orm.sessionmaker(engine)))
    admin.add_view(ModelView(models_classic.Person, orm.sessionmaker(engine)))
    client = app.test_client()

    assert client.post("/admin/team/new/", data={"name": "red"}).status_code == 302
    created = client.post(
        "/admin/person/new/", data={"name": "alice", "score": "3", "team": "1"}
    )

    assert created.status_code == 302
    assert "alice" in client.get("/admin/person/").get_data(as_text=True)

    with engine.connect() as conn:
        query = (
            "SELECT person.name, team.name FROM person JOIN team ON team.id = team_id"
        )
        assert conn.execute(sa.text(query)).all() == [("alice", "red")]

    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    engine.dispose()


@pytest.mark.skipif(
    not hasattr(orm, "DeclarativeBase"), reason="2.0-style models need SQLAlchemy 2.0"
)
def test_mapped_models_are_used_on_2x() -> None:
    """On SQLAlchemy 2.x the tests' models are the 2.0-style ones."""
    from . import models
    from . import models_mapped

    assert models.Person is models_mapped.Person
