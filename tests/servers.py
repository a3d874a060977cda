"""The database servers the tests may use, and what to do when one is down."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

_POSTGRES_DRIVER = "psycopg2" if sa.__version__.startswith("1.") else "psycopg"
"""SQLAlchemy has a dialect for psycopg 3 from 2.0 on; 1.4 uses psycopg2."""

POSTGRES_URL = os.environ.get(
    "SQLA_LITE_POSTGRES_URL",
    f"postgresql+{_POSTGRES_DRIVER}://postgres@127.0.0.1:5432/test",
)
MARIADB_URL = os.environ.get(
    "SQLA_LITE_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
REQUIRED = os.environ.get("SQLA_LITE_REQUIRE_SERVERS") == "1"
"""Set by ``.ci/run``: a server that cannot be reached fails the run."""


def why_unreachable(url: str) -> str | None:
    """Connect once; return the error if the server cannot be reached."""
    engine = sa.create_engine(url)

    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as error:
        return str(error.orig)
    finally:
        engine.dispose()


def skip_or_fail(url: str, reason: str) -> None:
    """Skip locally, but fail when the servers are required."""
    message = f"{sa.engine.make_url(url).render_as_string()} is unreachable: {reason}"

    if REQUIRED:
        pytest.fail(f"{message} (SQLA_LITE_REQUIRE_SERVERS=1)", pytrace=False)

    pytest.skip(message)
