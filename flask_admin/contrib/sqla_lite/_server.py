"""Ask the database server which connections sit inside a transaction."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_QUERIES = {
    "postgresql": (
        "pg_stat_activity",
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE pid IN :ids AND state LIKE 'idle in transaction%'",
    ),
    "mysql": (
        "information_schema.innodb_trx",
        "SELECT count(*) FROM information_schema.innodb_trx"
        " WHERE trx_mysql_thread_id IN :ids",
    ),
}
"""By dialect name (MariaDB's is ``mysql``): what is read, and the query counting
the connections of ``:ids`` inside a transaction."""


def side_engine(engine: Engine) -> Engine:
    """An engine with a pool of its own but ``engine``'s driver, URL, connect
    arguments and dialect: it works when ``engine``'s pool is exhausted, and its
    connections are not the app's. Dispose it after use."""
    return Engine(engine.pool.recreate(), engine.dialect, engine.url)


def idle_in_transaction(
    engine: Engine, drivers: cabc.Iterable[t.Any]
) -> tuple[int | None, str]:
    """Count the driver connections ``drivers`` of ``engine`` that its server
    reports inside a transaction, from a connection of :func:`side_engine`.

    :return: The count, ``None`` if it cannot be measured, and how it was
        measured or why not.
    """
    query = _QUERIES.get(engine.dialect.name)

    if query is None:
        return None, f"was not asked: {engine.dialect.name} does not tell"

    ids = [backend for backend in map(_backend_id, drivers) if backend is not None]

    if not ids:
        return None, f"was not asked: the {engine.driver} driver hides the ids"

    source, text = query
    side = side_engine(engine)

    try:
        with side.connect() as connection:
            statement = sa.text(text).bindparams(sa.bindparam("ids", expanding=True))
            count = connection.execute(statement, {"ids": ids}).scalar_one()
    except sa.exc.DBAPIError as error:
        return None, f"was not asked: reading {source} failed ({error.orig})"
    finally:
        side.dispose()

    return int(count), source


def _backend_id(driver: t.Any) -> int | None:
    """The server's id of a driver connection: psycopg 3, psycopg2, PyMySQL and
    mysqlclient are known."""
    info = getattr(driver, "info", None)
    pid = getattr(info, "backend_pid", None)

    if pid is None and hasattr(driver, "get_backend_pid"):
        pid = driver.get_backend_pid()

    if pid is None and hasattr(driver, "thread_id"):
        pid = driver.thread_id()

    return int(pid) if pid is not None else None
