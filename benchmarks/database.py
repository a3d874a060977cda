"""The benchmark databases: a SQLite file and a PostgreSQL database of their own."""

from __future__ import annotations

import os
import pathlib

import sqlalchemy as sa

from tests.sqla.models import Base
from tests.sqla.models import Person
from tests.sqla.models import Team

POSTGRES_URL = os.environ.get(
    "SQLA_LITE_BENCH_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/sqla_lite_bench",
)
"""The PostgreSQL benchmark database; created on the server if it is absent."""

TEAMS = 20
PEOPLE = 200


def sqlite_url(directory: pathlib.Path) -> str:
    """A SQLite file in ``directory``: a real pool, unlike ``sqlite://``."""
    return f"sqlite:///{directory / 'bench.sqlite3'}"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if the server lacks it."""
    target = sa.make_url(url)

    if target.get_backend_name() != "postgresql" or target.database is None:
        return

    engine = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT"
    )

    try:
        with engine.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )

            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        engine.dispose()


def seed(url: str) -> None:
    """Recreate the test tables with teams and people, every person in a team."""
    ensure_database(url)
    engine = sa.create_engine(url)

    try:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)

        with sa.orm.Session(engine) as session, session.begin():
            teams = [Team(name=f"Team {i:02d}") for i in range(TEAMS)]
            session.add_all(teams)
            session.add_all(
                Person(name=f"Person {i:03d}", score=i, team=teams[i % TEAMS])
                for i in range(PEOPLE)
            )
    finally:
        engine.dispose()
