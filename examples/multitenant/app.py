"""One admin for several tenants, each in its own database.

The tenant is the first part of the URL: ``/acme/admin/`` and ``/globex/admin/``
serve the same views, and a ``get_session`` override hands each request the
session of its tenant's database.

Run it from the repository root with ``python examples/multitenant/app.py``, or
``flask --app examples/multitenant/app.py run``. It serves on 127.0.0.1, on the
port in ``PORT`` (default 5000). Each tenant has a SQLite file in this example's
``instance/`` folder, seeded on first run; ``DATABASE_URL`` replaces them with a
URL containing ``{tenant}``, e.g.
``postgresql+psycopg://postgres@127.0.0.1/example_{tenant}`` (the databases must
exist).
"""

from __future__ import annotations

import os
import pathlib
import typing as t

import sqlalchemy as sa
from flask import abort
from flask import current_app
from flask import Flask
from flask import g
from flask import render_template_string
from flask_admin.theme import Bootstrap4Theme
from sqlalchemy import ForeignKey
from sqlalchemy import orm
from sqlalchemy import String

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView
from flask_admin.contrib.sqla_lite import resolve_session_source
from flask_admin.contrib.sqla_lite import SessionSource

try:
    from flask_babel import Babel
except ImportError:  # Flask-Admin needs Babel on the app only if it is installed.
    Babel = None

HERE = pathlib.Path(__file__).resolve().parent

TENANTS = {"acme": "Acme Corp", "globex": "Globex"}
"""Tenant URL names and the customer each database is seeded with."""


class Base(orm.DeclarativeBase):
    """The declarative base of every tenant's tables."""


class Customer(Base):
    """A customer of the tenant; its name is unique within the tenant."""

    __tablename__ = "customer"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(String(100), unique=True)

    def __str__(self) -> str:
        return self.name


class Invoice(Base):
    """An invoice for one of the tenant's customers."""

    __tablename__ = "invoice"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    amount: orm.Mapped[int]
    customer_id: orm.Mapped[int] = orm.mapped_column(ForeignKey("customer.id"))
    customer: orm.Mapped[Customer] = orm.relationship()


class TenantView(ModelView):
    """A view whose session belongs to the tenant named in the URL."""

    def get_session(self) -> orm.Session:
        """Return the session of this request's tenant, closed at teardown."""
        sources: dict[str, SessionSource] = current_app.extensions["tenants"]
        return sources[g.tenant]()


# One admin for every tenant: "<tenant>" in its URL is filled in per request.
# The base template names the tenant in the navigation bar and links it home.
admin = Admin(
    name="Tenants",
    url="/<tenant>/admin",
    theme=Bootstrap4Theme(base_template="tenant_base.html"),
)
admin.add_view(TenantView(Customer))
admin.add_view(TenantView(Invoice))


def create_app(database_url: str | None = None) -> Flask:
    """Create the app on one database per tenant, its engine in
    ``app.extensions["engines"][tenant]``.

    :param database_url: A URL containing ``{tenant}``; defaults to
        ``DATABASE_URL``, else a SQLite file per tenant in the instance folder.
    """
    # Name the instance folder: run as a script, Flask cannot locate "__main__".
    app = Flask(__name__, instance_path=str(HERE / "instance"))
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev")
    url = database_url or os.environ.get("DATABASE_URL") or default_url(app)

    if "{tenant}" not in url:
        raise ValueError(
            f"The database URL {url!r} must contain '{{tenant}}', which is"
            " replaced by each tenant's name to give its own database."
        )

    engines = {name: sa.create_engine(url.format(tenant=name)) for name in TENANTS}
    app.extensions["engines"] = engines
    # A sessionmaker source opens a session per app context and closes it at
    # teardown, so each tenant's connections go back to its pool after a request.
    app.extensions["tenants"] = {
        name: resolve_session_source(orm.sessionmaker(engine))
        for name, engine in engines.items()
    }
    app.url_value_preprocessor(pull_tenant)
    app.url_defaults(push_tenant)

    if Babel is not None:
        Babel(app)

    admin.init_app(app)
    app.add_url_rule("/", "index", list_tenants)

    for name, engine in engines.items():
        Base.metadata.create_all(engine)

        with orm.Session(engine) as session:
            seed(session, TENANTS[name])

    return app


def default_url(app: Flask) -> str:
    """Return the URL of a SQLite file per tenant in the app's instance folder."""
    os.makedirs(app.instance_path, exist_ok=True)
    return f"sqlite:///{os.path.join(app.instance_path, 'tenant_{tenant}.sqlite3')}"


def pull_tenant(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
    """Move the tenant from the URL to ``g.tenant``; unknown tenants are 404."""
    if values is None or "tenant" not in values:
        return

    tenant = values.pop("tenant")

    if tenant not in TENANTS:
        abort(404)

    g.tenant = tenant


def push_tenant(endpoint: str, values: dict[str, t.Any]) -> None:
    """Fill in the current tenant when building the admin's URLs."""
    if "tenant" not in values and current_app.url_map.is_endpoint_expecting(
        endpoint, "tenant"
    ):
        values["tenant"] = g.tenant


def list_tenants() -> str:
    """Link to each tenant's admin."""
    return render_template_string(
        "<h1>Tenants</h1><ul>{% for name in tenants %}"
        "<li><a href='{{ url_for('admin.index', tenant=name) }}'>{{ name }}</a>"
        "</li>{% endfor %}</ul>",
        tenants=TENANTS,
    )


def seed(session: orm.Session, customer: str) -> None:
    """Give an empty tenant database one customer with an invoice."""
    if session.scalar(sa.select(sa.func.count()).select_from(Customer)):
        return

    session.add(Invoice(amount=100, customer=Customer(name=customer)))
    session.commit()


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
