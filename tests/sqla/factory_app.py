"""An app-factory project: extension, admin and views created at import time.

The extension is Flask-SQLAlchemy-Lite, or Flask-SQLAlchemy where Lite is not
installed (SQLAlchemy 1.4).
"""

from __future__ import annotations

import typing as t

import flask_sqlalchemy
from flask import Flask

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView

from ..optional import flask_sqlalchemy_lite
from .models import Person
from .models import Team

try:
    from flask_babel import Babel
except ImportError:  # pragma: no cover - Flask-Admin needs Babel only if installed
    Babel = None

db: t.Any = (flask_sqlalchemy_lite or flask_sqlalchemy).SQLAlchemy()
admin = Admin(name="Factory")
admin.add_view(ModelView(Team, db))
admin.add_view(ModelView(Person, db))


def create_app(database_url: str) -> Flask:
    """Create an app on ``database_url`` and register the shared admin on it."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test",
        WTF_CSRF_ENABLED=False,
        SQLALCHEMY_ENGINES={"default": database_url},
        SQLALCHEMY_DATABASE_URI=database_url,
    )
    db.init_app(app)

    if Babel is not None:
        Babel(app)

    admin.init_app(app)
    return app


def dispose(app: Flask) -> None:
    """Dispose the app's engines."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
