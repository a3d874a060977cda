"""Plain SQLAlchemy, no Flask extension: a ``sessionmaker`` and a function.

Run it from the repository root with ``python examples/callable/app.py``, or
``flask --app examples/callable/app.py run``. It serves on 127.0.0.1, on the
port in ``PORT`` (default 5000), and uses the database in ``DATABASE_URL``
(default: a SQLite file in this example's ``instance/`` folder, seeded on
first run).
"""

from __future__ import annotations

import os
import pathlib

import sqlalchemy as sa
from flask import Flask
from flask import g
from flask import redirect
from flask import url_for
from sqlalchemy import ForeignKey
from sqlalchemy import orm
from sqlalchemy import String
from werkzeug import Response

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView

try:
    from flask_babel import Babel
except ImportError:  # Flask-Admin needs Babel on the app only if it is installed.
    Babel = None

HERE = pathlib.Path(__file__).resolve().parent


class Base(orm.DeclarativeBase):
    """The declarative base of this example's models."""


class Team(Base):
    """A team; its name is unique."""

    __tablename__ = "team"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(String(50), unique=True)

    def __str__(self) -> str:
        return self.name


class User(Base):
    """A user, in one team."""

    __tablename__ = "user_account"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(String(50))
    team_id: orm.Mapped[int | None] = orm.mapped_column(ForeignKey("team.id"))
    team: orm.Mapped[Team | None] = orm.relationship()

    def __str__(self) -> str:
        return self.name


def create_app(database_url: str | None = None) -> Flask:
    """Create the app on ``database_url``, else ``DATABASE_URL``, else SQLite.

    The engine is kept in ``app.extensions["engines"]["default"]``.
    """
    # Name the instance folder: run as a script, Flask cannot locate "__main__".
    app = Flask(__name__, instance_path=str(HERE / "instance"))
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev")
    engine = sa.create_engine(
        database_url or os.environ.get("DATABASE_URL") or default_url(app)
    )
    app.extensions["engines"] = {"default": engine}
    make_session = orm.sessionmaker(engine)

    def get_session() -> orm.Session:
        """Return the app's session of this request, opened on first use."""
        if "db_session" not in g:
            g.db_session = make_session()

        session: orm.Session = g.db_session
        return session

    @app.teardown_appcontext
    def close_session(error: BaseException | None) -> None:
        """Close the session ``get_session`` opened in this app context."""
        session: orm.Session | None = g.pop("db_session", None)

        if session is not None:
            session.close()

    if Babel is not None:
        Babel(app)

    admin = Admin(app, name="Callable")
    # The view opens a session per request from the sessionmaker and closes it.
    admin.add_view(ModelView(Team, make_session))
    # The view asks the function for the request's session; the app closes it.
    admin.add_view(ModelView(User, session=get_session))
    app.add_url_rule("/", "index", go_to_admin)

    Base.metadata.create_all(engine)

    with make_session() as session:
        seed(session)

    return app


def default_url(app: Flask) -> str:
    """Return the URL of a SQLite file in the app's instance folder."""
    os.makedirs(app.instance_path, exist_ok=True)
    return f"sqlite:///{os.path.join(app.instance_path, 'callable.sqlite3')}"


def go_to_admin() -> Response:
    """Send visitors of ``/`` to the admin."""
    return redirect(url_for("admin.index"))


def seed(session: orm.Session) -> None:
    """Add two teams and their users to an empty database."""
    if session.scalar(sa.select(sa.func.count()).select_from(Team)):
        return

    red = Team(name="red")
    blue = Team(name="blue")
    session.add_all(
        [
            User(name="alice", team=red),
            User(name="bob", team=blue),
            User(name="carol", team=red),
        ]
    )
    session.commit()


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
