from __future__ import annotations

import collections.abc as cabc
import pathlib

import pytest
import sqlalchemy as sa

from .sources import create_tables
from .sources import SOURCE_PARAMS
from .sources import SOURCES
from .sources import SourceSetup


@pytest.fixture
def db_url(tmp_path: pathlib.Path) -> str:
    """A SQLite file with the test tables; a real pool, unlike ``sqlite://``."""
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    engine = sa.create_engine(url)
    create_tables(engine)
    engine.dispose()
    return url


@pytest.fixture
def out_of_band(db_url: str) -> cabc.Iterator[sa.Engine]:
    """An engine of its own, for changing and reading rows behind the admin's back."""
    engine = sa.create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded(out_of_band: sa.Engine) -> dict[str, int]:
    """Two teams and two people; returns their ids by name."""
    with out_of_band.begin() as conn:
        red = conn.execute(sa.text("INSERT INTO team (name) VALUES ('red')")).lastrowid
        blue = conn.execute(
            sa.text("INSERT INTO team (name) VALUES ('blue')")
        ).lastrowid
        alice = conn.execute(
            sa.text(
                "INSERT INTO person (name, score, team_id) VALUES ('alice', 3, :t)"
            ),
            {"t": red},
        ).lastrowid
        bob = conn.execute(
            sa.text("INSERT INTO person (name, score, team_id) VALUES ('bob', 1, :t)"),
            {"t": blue},
        ).lastrowid
        conn.execute(
            sa.text("INSERT INTO address (street, person_id) VALUES ('Elm St', :p)"),
            {"p": alice},
        )
    return {"red": red, "blue": blue, "alice": alice, "bob": bob}


@pytest.fixture(params=SOURCE_PARAMS)
def setup(request: pytest.FixtureRequest, db_url: str) -> cabc.Iterator[SourceSetup]:
    """Each per-request session source, on the test's SQLite file."""
    setup = SOURCES[request.param](db_url)
    yield setup
    setup.dispose()
