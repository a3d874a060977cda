"""Fixtures for every test of ours: SQLite file databases pooled as on 2.x, and
the versions under test recorded in the JUnit XML that tox envs write."""

from __future__ import annotations

import collections.abc as cabc
import importlib.metadata
import platform
import typing as t

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import pysqlite

if t.TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import ConnectArgsType


def _queue_pool_for_files(url: sa.engine.URL) -> type[sa.pool.Pool]:
    """SQLAlchemy 2.0's choice: a QueuePool for a SQLite file, else one connection
    per thread."""
    if pysqlite.SQLiteDialect_pysqlite._is_url_file_db(url):
        return sa.pool.QueuePool

    return sa.pool.SingletonThreadPool


_connect_args_of_1_4 = pysqlite.SQLiteDialect_pysqlite.create_connect_args


def _any_thread_for_files(
    dialect: pysqlite.SQLiteDialect_pysqlite, url: sa.engine.URL
) -> ConnectArgsType:
    """SQLAlchemy 2.0's driver arguments: a SQLite file's connections may be used
    by any thread, as a QueuePool hands them from one thread to the next."""
    args, options = _connect_args_of_1_4(dialect, url)

    if dialect._is_url_file_db(url):
        options.setdefault("check_same_thread", False)

    return args, options


@pytest.fixture(autouse=True)
def sqlite_file_queue_pool() -> cabc.Iterator[None]:
    """On SQLAlchemy 1.4, pool SQLite files in a QueuePool whose connections any
    thread may use, as 2.0 does (1.4 uses a NullPool), so that the tests can see
    connections held or returned."""
    if not sa.__version__.startswith("1."):
        yield
        return

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            pysqlite.SQLiteDialect_pysqlite,
            "get_pool_class",
            classmethod(lambda cls, url: _queue_pool_for_files(url)),
        )
        patch.setattr(
            pysqlite.SQLiteDialect_pysqlite,
            "create_connect_args",
            _any_thread_for_files,
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
"""The distributions whose versions ``scripts/versions_tested.py`` reports, in
the order of its columns."""


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
