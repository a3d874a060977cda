"""No message, description or ``flask admin-sessions`` output shows a password
from a database URL."""

from __future__ import annotations

import functools
import json
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_admin.contrib.sqla import _compat as stock_compat
from flask_admin.contrib.sqla import view as stock_view
from sqlalchemy import orm

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView
from flask_admin.contrib.sqla_lite import resolve_session_source
from flask_admin.contrib.sqla_lite._cli import admin_sessions
from flask_admin.contrib.sqla_lite._masking import mask

from .models import Team

SECRET = "s3cr3t-Pa55"
URL = f"postgresql://admin:{SECRET}@db.example.com:5432/app"


@pytest.mark.parametrize(
    "source",
    (URL, URL.encode(), sa.engine.make_url(URL), f"mysql://root:p@{SECRET}@h/db"),
    ids=("str", "bytes", "URL", "at-in-password"),
)
def test_url_as_session_is_refused_without_its_password(source: object) -> None:
    """A database URL given as the session names ``create_engine(url)`` and shows
    the URL with its password masked."""
    with pytest.raises(TypeError, match=r"Pass 'create_engine\(url\)'") as info:
        ModelView(Team, source)

    assert SECRET not in str(info.value)
    assert "***@" in str(info.value)


def _sessionmaker_with_secrets() -> orm.sessionmaker[orm.Session]:
    engine = sa.create_engine(
        # psycopg2: SQLAlchemy 1.4 has no psycopg 3 dialect.
        f"postgresql+psycopg2://db.example.com/app?password={SECRET}"
    )
    return orm.sessionmaker(engine, info={"dsn": URL})


def _make_session(url: str) -> orm.Session:  # pragma: no cover - never called
    raise AssertionError(url)


SOURCES: dict[str, t.Callable[[], object]] = {
    "sessionmaker": _sessionmaker_with_secrets,
    "engine": lambda: sa.create_engine(URL),
    "partial": lambda: functools.partial(_make_session, URL),
}


@pytest.mark.parametrize("source_id", sorted(SOURCES))
def test_descriptions_mask_passwords(source_id: str) -> None:
    """A source's description masks passwords in URLs and in query arguments."""
    source = resolve_session_source(SOURCES[source_id]())
    assert SECRET not in source.description
    assert SECRET not in repr(source)


def test_mask_keeps_urls_without_password() -> None:
    """Masking changes only the secret part of a URL."""
    assert mask("Engine(postgresql://u@h/db?sslmode=require)") == (
        "Engine(postgresql://u@h/db?sslmode=require)"
    )
    assert mask(f"redis://:{SECRET}@h/0 and x?token={SECRET}&a=1") == (
        "redis://:***@h/0 and x?token=***&a=1"
    )


def test_admin_sessions_masks_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """``flask admin-sessions``, as a table and as JSON, shows no password for our
    views nor for a stock view given a URL string."""
    app = Flask(__name__)
    admin = Admin(app)
    admin.add_view(ModelView(Team, _sessionmaker_with_secrets(), endpoint="maker"))
    admin.add_view(
        ModelView(Team, SOURCES["partial"](), endpoint="partial"),
    )
    monkeypatch.setattr(stock_compat, "T_SQLALCHEMY_LITE", None)

    with pytest.warns(DeprecationWarning, match="Passing a session object"):
        admin.add_view(stock_view.ModelView(Team, URL, endpoint="stock_url"))

    runner = app.test_cli_runner()
    table = runner.invoke(admin_sessions, [])
    machine = runner.invoke(admin_sessions, ["--json"])

    assert "create_engine(url)" in " ".join(table.output.split())
    assert SECRET not in table.output
    assert SECRET not in machine.output
    assert json.loads(machine.output)["admins"]
