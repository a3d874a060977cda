"""A library admin on Flask-SQLAlchemy-Lite, built by an app factory.

Run it from the repository root with ``python examples/sqla_lite/app.py``, or
``flask --app examples/sqla_lite/app.py run``. It serves on 127.0.0.1, on the
port in ``PORT`` (default 5000), and uses the database in ``DATABASE_URL``
(default: a SQLite file in this example's ``instance/`` folder, seeded on
first run).
"""

from __future__ import annotations

import os
import pathlib

import sqlalchemy as sa
from flask import Flask
from flask import redirect
from flask import url_for
from sqlalchemy import orm
from werkzeug import Response

from models import Author
from models import Base
from models import Book
from models import db
from models import Review
from views import admin

try:
    from flask_babel import Babel
except ImportError:  # Flask-Admin needs Babel on the app only if it is installed.
    Babel = None

HERE = pathlib.Path(__file__).resolve().parent

DEFAULT_DATABASE_URL = "sqlite:///sqla_lite.sqlite3"
"""Relative to the app's instance folder, which Flask-SQLAlchemy-Lite creates."""


def create_app(database_url: str | None = None) -> Flask:
    """Create the app on ``database_url``, else ``DATABASE_URL``, else SQLite.

    The tables are created, and filled with a few books if there are no authors.
    """
    # Run as a script, the module is "__main__", which Flask cannot locate:
    # name the instance folder so the database lands beside this file.
    app = Flask(__name__, instance_path=str(HERE / "instance"))
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev"),
        SQLALCHEMY_ENGINES={
            "default": database_url
            or os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
        },
    )
    db.init_app(app)

    if Babel is not None:
        Babel(app)

    admin.init_app(app)
    app.add_url_rule("/", "index", go_to_admin)

    with app.app_context():
        Base.metadata.create_all(db.engine)
        seed(db.session)

    return app


def go_to_admin() -> Response:
    """Send visitors of ``/`` to the admin."""
    return redirect(url_for("admin.index"))


def seed(session: orm.Session) -> None:
    """Add a few authors, books and reviews to an empty database."""
    if session.scalar(sa.select(sa.func.count()).select_from(Author)):
        return

    le_guin = Author(name="Ursula K. Le Guin")
    pratchett = Author(name="Terry Pratchett")
    butler = Author(name="Octavia E. Butler")
    session.add_all(
        [
            Book(
                title="A Wizard of Earthsea",
                year=1968,
                author=le_guin,
                reviews=[Review(reviewer="Sam", rating=5)],
            ),
            Book(title="The Dispossessed", year=1974, author=le_guin),
            Book(
                title="Small Gods",
                year=1992,
                author=pratchett,
                reviews=[Review(reviewer="Ana", rating=4)],
            ),
            Book(title="Guards! Guards!", year=1989, author=pratchett),
            Book(title="Kindred", year=1979, author=butler),
            Book(title="Parable of the Sower", year=1993, author=butler),
            Author(name="Italo Calvino"),
        ]
    )
    session.commit()


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
