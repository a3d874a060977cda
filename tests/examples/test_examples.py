"""Each example serves its admin: in-process on a tmp SQLite file, and by its
one command in a process of its own."""

from __future__ import annotations

import collections.abc as cabc
import importlib
import pathlib
import shutil
import sys
import types
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.cli import ScriptInfo

from ..servers import MARIADB_URL
from ..servers import POSTGRES_URL
from ..servers import skip_or_fail
from ..servers import why_unreachable


def rows(engine: sa.Engine, query: str) -> list[tuple[object, ...]]:
    """Return the rows ``query`` selects, read past the admin's sessions."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query))]


def checked_out(engine: sa.Engine) -> int:
    """How many connections of ``engine``'s pool are in use."""
    assert isinstance(engine.pool, sa.QueuePool)
    return engine.pool.checkedout()


_LOCAL_MODULES = ("app", "models", "views")
"""The names the examples' own modules are imported under from their folder."""


def _forget_example_modules() -> None:
    for name in _LOCAL_MODULES:
        sys.modules.pop(name, None)


@pytest.fixture
def example_imports(monkeypatch: pytest.MonkeyPatch) -> cabc.Iterator[None]:
    """Let the test import an example's modules afresh; ``sys.path`` and the
    imported modules are cleaned up afterwards."""
    _forget_example_modules()
    monkeypatch.setattr(sys, "path", [*sys.path])
    yield
    _forget_example_modules()


@pytest.fixture
def load_example(
    example_imports: None,
    examples_dir: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> cabc.Callable[[str], types.ModuleType]:
    """Import an example's ``app.py`` from its folder, as ``python
    examples/NAME/app.py`` finds it, so its views are built at import time."""

    def load(name: str) -> types.ModuleType:
        monkeypatch.syspath_prepend(str(examples_dir / name))
        return importlib.import_module("app")

    return load


def _engines(app: Flask) -> list[sa.Engine]:
    """The engines of an example app: Flask-SQLAlchemy-Lite's, or its own."""
    if "sqlalchemy" in app.extensions:
        with app.app_context():
            return list(app.extensions["sqlalchemy"].engines.values())

    return list(app.extensions["engines"].values())


@pytest.fixture
def example_app(
    load_example: cabc.Callable[[str], types.ModuleType],
) -> cabc.Iterator[cabc.Callable[[str, str], Flask]]:
    """Create an example's app on a database URL; its engines are disposed after
    the test."""
    apps: list[Flask] = []

    def create(name: str, url: str) -> Flask:
        app: Flask = load_example(name).create_app(url)
        apps.append(app)
        return app

    yield create

    for app in apps:
        _dispose(app)


def _dispose(app: Flask) -> None:
    """Dispose an example app's engines."""
    for engine in _engines(app):
        engine.dispose()


@pytest.fixture
def sqla_lite_app(
    example_app: cabc.Callable[[str, str], Flask], sqlite_url: str
) -> Flask:
    """The ``sqla_lite`` example's app, created and seeded on ``sqlite_url``."""
    return example_app("sqla_lite", sqlite_url)


def test_sqla_lite_lists_and_creates_with_ajax_author_and_inline_review(
    sqla_lite_app: Flask, database: sa.Engine
) -> None:
    """The library lists its seeded books and creates a book whose author comes
    from the ajax lookup, with an inline review."""
    client = sqla_lite_app.test_client()
    assert "Parable of the Sower" in client.get("/admin/book/").text
    assert client.get("/admin/book/new/").status_code == 200

    lookup = client.get("/admin/book/ajax/lookup/?name=author&query=calv")
    [(calvino_id, calvino)] = lookup.get_json()
    assert calvino == "Italo Calvino"

    response = client.post(
        "/admin/book/new/",
        data={
            "title": "Invisible Cities",
            "year": "1972",
            "author": str(calvino_id),
            "reviews-0-reviewer": "Kim",
            "reviews-0-rating": "5",
        },
    )

    assert response.status_code == 302
    assert rows(
        database,
        "SELECT book.title, author.name, review.reviewer FROM book"
        " JOIN author ON author.id = book.author_id"
        " JOIN review ON review.book_id = book.id WHERE book.year = 1972",
    ) == [("Invisible Cities", "Italo Calvino", "Kim")]


def test_sqla_lite_refuses_a_second_author_of_the_same_name(
    sqla_lite_app: Flask, database: sa.Engine
) -> None:
    """The author's unique name is checked by the form, not left to the database."""
    response = sqla_lite_app.test_client().post(
        "/admin/author/new/", data={"name": "Terry Pratchett"}
    )

    assert response.status_code == 200
    assert "Already exists" in response.text
    assert rows(
        database, "SELECT count(*) FROM author WHERE name = 'Terry Pratchett'"
    ) == [(1,)]


def test_sqla_lite_searches_filters_and_exports(sqla_lite_app: Flask) -> None:
    """Search by author name, a year filter and the CSV export all query the
    database."""
    client = sqla_lite_app.test_client()

    found = client.get("/admin/book/?search=pratchett").text
    assert "Small Gods" in found
    assert "Kindred" not in found

    recent = client.get("/admin/book/?flt0_year_greater_than=1990").text
    assert "Small Gods" in recent
    assert "Guards! Guards!" not in recent

    export = client.get("/admin/book/export/csv/")
    assert export.status_code == 200
    assert "Kindred,1979,Octavia E. Butler" in export.text


@pytest.fixture
def callable_app(
    example_app: cabc.Callable[[str, str], Flask], sqlite_url: str
) -> Flask:
    """The ``callable`` example's app on ``sqlite_url``."""
    return example_app("callable", sqlite_url)


def test_callable_views_serve_and_return_their_connections(
    callable_app: Flask, database: sa.Engine
) -> None:
    """The sessionmaker view and the session-function view both list and create,
    and no connection stays checked out after the requests."""
    client = callable_app.test_client()
    assert "red" in client.get("/admin/team/").text
    assert "carol" in client.get("/admin/user/").text
    assert client.get("/admin/user/new/").status_code == 200

    created_team = client.post("/admin/team/new/", data={"name": "green"})
    [(green_id,)] = rows(database, "SELECT id FROM team WHERE name = 'green'")
    created_user = client.post(
        "/admin/user/new/", data={"name": "dave", "team": str(green_id)}
    )

    assert (created_team.status_code, created_user.status_code) == (302, 302)
    assert rows(
        database,
        "SELECT team.name FROM user_account"
        " JOIN team ON team.id = user_account.team_id WHERE user_account.name = 'dave'",
    ) == [("green",)]
    assert checked_out(callable_app.extensions["engines"]["default"]) == 0


@pytest.fixture
def multitenant_app(
    example_app: cabc.Callable[[str, str], Flask], tmp_path: pathlib.Path
) -> Flask:
    """The ``multitenant`` example's app, with a SQLite file per tenant."""
    return example_app(
        "multitenant", f"sqlite:///{tmp_path / 'tenant_{tenant}.sqlite3'}"
    )


def test_multitenant_routes_each_url_to_its_tenant_database(
    multitenant_app: Flask,
) -> None:
    """Each tenant's admin lists, offers and checks only its own rows, and
    writes to its own database."""
    client = multitenant_app.test_client()
    acme_list = client.get("/acme/admin/customer/").text
    assert "Acme Corp" in acme_list
    assert "Globex" not in acme_list
    assert "Globex" in client.get("/globex/admin/invoice/new/").text

    duplicate = client.post("/globex/admin/customer/new/", data={"name": "Globex"})
    other_tenants_name = client.post(
        "/acme/admin/customer/new/", data={"name": "Globex"}
    )

    assert "Already exists" in duplicate.text
    assert other_tenants_name.status_code == 302
    engines: dict[str, sa.Engine] = multitenant_app.extensions["engines"]
    assert {
        tenant: sorted(rows(engine, "SELECT name FROM customer"))
        for tenant, engine in engines.items()
    } == {"acme": [("Acme Corp",), ("Globex",)], "globex": [("Globex",)]}


def test_multitenant_unknown_tenant_is_not_found(multitenant_app: Flask) -> None:
    """A URL naming no tenant is a 404, not an error."""
    assert multitenant_app.test_client().get("/nobody/admin/").status_code == 404


def test_multitenant_needs_a_tenant_placeholder(
    load_example: cabc.Callable[[str], types.ModuleType], sqlite_url: str
) -> None:
    """A database URL without ``{tenant}`` is refused with a hint."""
    module = load_example("multitenant")

    with pytest.raises(ValueError, match=r"must contain '\{tenant\}'"):
        module.create_app(sqlite_url)


COMMANDS = (
    ("sqla_lite", "/admin/book/", "A Wizard of Earthsea", "sqla_lite.sqlite3"),
    ("callable", "/admin/user/", "alice", "callable.sqlite3"),
    ("multitenant", "/globex/admin/customer/", "Globex", "tenant_{tenant}.sqlite3"),
)
"""Example, a page, a seeded value it shows, and the SQLite file it uses by
default in its instance folder (``{tenant}``: one per tenant)."""


@pytest.mark.parametrize(
    ("name", "path", "shown", "database_file"),
    COMMANDS,
    ids=[command[0] for command in COMMANDS],
)
def test_flask_app_option_finds_the_factory(
    name: str,
    path: str,
    shown: str,
    database_file: str,
    examples_dir: pathlib.Path,
    example_imports: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
) -> None:
    """``flask --app examples/NAME/app.py`` loads the app from ``create_app``,
    on the database in ``DATABASE_URL``."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / database_file}")
    app = ScriptInfo(app_import_path=str(examples_dir / name / "app.py")).load_app()

    try:
        assert shown in app.test_client().get(path).text
        assert list(tmp_path.glob("*.sqlite3"))
    finally:
        _dispose(app)


@pytest.mark.parametrize(
    ("name", "path", "shown", "database_file"),
    COMMANDS,
    ids=[command[0] for command in COMMANDS],
)
def test_one_command_serves_the_admin(
    name: str,
    path: str,
    shown: str,
    database_file: str,
    examples_dir: pathlib.Path,
    serve_example: cabc.Callable[[pathlib.Path, str | None], str],
    tmp_path: pathlib.Path,
) -> None:
    """``python examples/NAME/app.py`` seeds a SQLite file in the example's
    instance folder and serves the admin on 127.0.0.1:$PORT."""
    example = tmp_path / name
    shutil.copytree(
        examples_dir / name,
        example,
        ignore=shutil.ignore_patterns("instance", "__pycache__"),
    )
    base_url = serve_example(example / "app.py", None)

    with urllib.request.urlopen(base_url + path, timeout=10) as response:
        page = response.read().decode()

    assert shown in page
    assert (example / "instance" / database_file.format(tenant="acme")).is_file()


def server_database(server_url: str, name: str) -> str:
    """Create the database ``name`` on the server if it is missing; return its URL."""
    url = sa.engine.make_url(server_url)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    try:
        with engine.connect() as conn:
            if url.get_backend_name() == "postgresql":
                found = conn.scalar(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": name},
                )

                if not found:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{name}`"))
    finally:
        engine.dispose()

    return url.set(database=name).render_as_string(hide_password=False)


ON_SERVERS = (
    ("sqla_lite", "/admin/book/", "Kindred", "/admin/author/new/", "author"),
    ("callable", "/admin/user/", "carol", "/admin/team/new/", "team"),
    (
        "multitenant",
        "/acme/admin/invoice/",
        "Acme Corp",
        "/acme/admin/customer/new/",
        "customer",
    ),
)
"""Example, a page showing a seeded value, a form creating a row by name, and
the table the row goes to."""


@pytest.mark.server
@pytest.mark.parametrize(
    "server_url", (POSTGRES_URL, MARIADB_URL), ids=("postgresql", "mariadb")
)
@pytest.mark.parametrize(
    ("name", "path", "shown", "create_path", "table"),
    ON_SERVERS,
    ids=[example[0] for example in ON_SERVERS],
)
def test_examples_run_on_database_url_servers(
    server_url: str,
    name: str,
    path: str,
    shown: str,
    create_path: str,
    table: str,
    load_example: cabc.Callable[[str], types.ModuleType],
) -> None:
    """With ``DATABASE_URL`` on PostgreSQL or MariaDB each example seeds, lists
    and creates rows there, and gives every connection back to its pool."""
    reason = why_unreachable(server_url)

    if reason is not None:
        skip_or_fail(server_url, reason)

    database = f"sqla_lite_example_{name}"

    if name == "multitenant":
        for tenant in ("acme", "globex"):
            server_database(server_url, f"{database}_{tenant}")

        database += "_{tenant}"

    url = server_database(server_url, database).replace("%7Btenant%7D", "{tenant}")
    module = load_example(name)
    app: Flask = module.create_app(url)
    engines = _engines(app)
    query = f"SELECT name FROM {table} WHERE name = 'From a server'"

    try:
        client = app.test_client()
        assert shown in client.get(path).text
        created = client.post(create_path, data={"name": "From a server"})

        assert created.status_code == 302
        assert [row for engine in engines for row in rows(engine, query)] == [
            ("From a server",)
        ]
        assert [checked_out(engine) for engine in engines] == [0] * len(engines)
    finally:
        for engine in engines:
            module.Base.metadata.drop_all(engine)
            engine.dispose()
