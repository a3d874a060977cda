"""The database servers the tests may use, and what to do when one is down."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get(
    "SQLA_LITE_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
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
    message = f"{sa.make_url(url).render_as_string()} is unreachable: {reason}"

    if REQUIRED:
        pytest.fail(f"{message} (SQLA_LITE_REQUIRE_SERVERS=1)", pytrace=False)

    pytest.skip(message)
