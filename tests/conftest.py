"""Fixtures for every test of ours: SQLite file databases pooled as on 2.x, and
the versions under test recorded in the JUnit XML that tox envs write."""

from __future__ import annotations

import collections.abc as cabc
import importlib.metadata
import platform

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import pysqlite


def _queue_pool_for_files(url: sa.engine.URL) -> type[sa.pool.Pool]:
    """SQLAlchemy 2.0's choice: a QueuePool for a SQLite file, else one connection
    per thread."""
    if pysqlite.SQLiteDialect_pysqlite._is_url_file_db(url):
        return sa.pool.QueuePool

    return sa.pool.SingletonThreadPool


@pytest.fixture(autouse=True)
def sqlite_file_queue_pool() -> cabc.Iterator[None]:
    """On SQLAlchemy 1.4, pool SQLite files in a QueuePool as 2.0 does (1.4 uses
    a NullPool), so that the tests can see connections held or returned."""
    if not sa.__version__.startswith("1."):
        yield
        return

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            pysqlite.SQLiteDialect_pysqlite,
            "get_pool_class",
            classmethod(lambda cls, url: _queue_pool_for_files(url)),
        )
        yield


RECORDED = (
    "Flask-Admin",
    "SQLAlchemy",
    "Flask-SQLAlchemy",
    "Flask-SQLAlchemy-Lite",
    "Flask",
    "WTForms",
    "Flask-Babel",
)
"""The distributions whose versions ``scripts/versions_tested.py`` reports."""


def installed_versions() -> dict[str, str]:
    """Python's and each of :data:`RECORDED`'s version, or ``"-"`` if missing."""
    versions = {"Python": platform.python_version()}

    for name in RECORDED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "-"

    return versions


@pytest.fixture(scope="session", autouse=True)
def record_versions(
    record_testsuite_property: cabc.Callable[[str, object], None],
) -> None:
    """Record the versions under test in the JUnit XML, if one is written."""
    for name, version in installed_versions().items():
        record_testsuite_property(name, version)
