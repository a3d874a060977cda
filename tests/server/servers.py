"""The PostgreSQL and MariaDB servers: a database of the tests' own on each, and
what the tests ask the server about its connections and transactions."""

from __future__ import annotations

import abc
import collections.abc as cabc
import contextlib
import os
import typing as t

import sqlalchemy as sa

from tests.server.pools import with_pool
from tests.servers import MARIADB_URL
from tests.servers import POSTGRES_URL
from tests.sqla.sources import create_tables

DATABASE_PREFIX = "sqla_lite_server_"
"""The tests' database is this prefix and the id of the pytest process, so runs
in parallel, and other users of the ``test`` database, never meet."""


class Server(abc.ABC):
    """A database server, the tests' database on it, and a control engine that
    inspects it and changes rows behind the admin's back.

    The queries take the tests' database as ``:db``.
    """

    name: t.ClassVar[str]
    server_url_setting: t.ClassVar[str]
    """The URL of the server, from :mod:`tests.servers`."""

    idle_in_transaction_query: t.ClassVar[str]
    """Counts the connections idle inside a transaction."""

    connections_query: t.ClassVar[str]
    """Ids of the connections other than the asking one."""

    blocked_query: t.ClassVar[str]
    """Ids of the connections waiting for a lock."""

    kill_query: t.ClassVar[str]
    """Ends the server side of connection ``:backend``."""

    version_query: t.ClassVar[str]
    """The server's version."""

    databases_query: t.ClassVar[str]
    """Names of the databases like ``:prefix``."""

    create_database: t.ClassVar[str]
    drop_database: t.ClassVar[str]
    """Format strings taking the database name as ``name``."""

    def __init__(self, server_url: sa.URL, database: str) -> None:
        self.server_url = server_url
        self.url = server_url.set(database=database)
        self.control = sa.create_engine(self.url, poolclass=sa.pool.NullPool)

    @abc.abstractmethod
    def backend_id(self, dbapi_connection: t.Any) -> int:
        """The server's id of a driver connection."""

    @abc.abstractmethod
    def lock_table(self, table: str) -> contextlib.AbstractContextManager[None]:
        """Hold a lock that makes every read of ``table`` wait."""

    @abc.abstractmethod
    def timeout_query(self, seconds: float) -> dict[str, str]:
        """URL query arguments that make the server cancel slow statements."""

    def admin_url(
        self,
        *,
        pool_size: int = 2,
        pool_timeout: float = 1.0,
        pre_ping: bool = False,
        statement_timeout: float | None = None,
    ) -> str:
        """The URL the admin's sources use: a small pool that fails fast.

        :param statement_timeout: Seconds after which the server cancels a statement.
        """
        url = self.url

        if statement_timeout is not None:
            url = url.update_query_dict(self.timeout_query(statement_timeout))

        return with_pool(url, size=pool_size, timeout=pool_timeout, pre_ping=pre_ping)

    def _rows(self, query: str, **params: object) -> list[t.Any]:
        """Run ``query`` on a fresh control connection; return the first column."""
        with self.control.connect() as conn:
            result = conn.execute(sa.text(query), {"db": self.url.database, **params})
            return list(result.scalars())

    def idle_in_transaction(self) -> int:
        """Connections to the tests' database sitting idle inside a transaction."""
        (count,) = self._rows(self.idle_in_transaction_query)
        return int(count)

    def version(self) -> str:
        """The server's version."""
        (version,) = self._rows(self.version_query)
        return str(version)

    def connections(self) -> list[int]:
        """Ids of the other connections to the tests' database."""
        return [int(backend) for backend in self._rows(self.connections_query)]

    def blocked(self) -> list[int]:
        """Ids of the connections to the tests' database waiting for a lock."""
        return [int(backend) for backend in self._rows(self.blocked_query)]

    def kill(self, backend: int) -> None:
        """End the server side of connection ``backend``, if it has not ended."""
        with self.control.connect() as conn:
            try:
                conn.execute(sa.text(self.kill_query), {"backend": backend})
            except sa.exc.OperationalError as error:
                if not self.is_gone(error):
                    raise

    def is_gone(self, error: sa.exc.OperationalError) -> bool:
        """Whether ``error`` says the connection to kill no longer exists."""
        return False

    @contextlib.contextmanager
    def lock_row(self, table: str, id: int) -> cabc.Iterator[None]:
        """Hold a lock that makes every write of row ``id`` of ``table`` wait."""
        with self.control.begin() as conn:
            conn.execute(
                sa.text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"),
                {"id": id},
            )
            yield

    @classmethod
    def connect(cls) -> Server:
        """Create the tests' database, with the test tables, on the server named
        by the environment; drop the databases of earlier runs that died."""
        server = cls(
            sa.engine.make_url(cls.server_url_setting),
            f"{DATABASE_PREFIX}{os.getpid()}",
        )

        with server._maintenance() as conn:
            names = conn.execute(
                sa.text(cls.databases_query), {"prefix": f"{DATABASE_PREFIX}%"}
            )

            for name in names.scalars().all():
                pid = name.removeprefix(DATABASE_PREFIX)

                if pid.isdigit() and not _process_alive(int(pid)):
                    conn.execute(sa.text(cls.drop_database.format(name=name)))

            conn.execute(sa.text(cls.create_database.format(name=server.url.database)))

        create_tables(server.control)
        return server

    def drop(self) -> None:
        """Drop the tests' database."""
        with self._maintenance() as conn:
            conn.execute(sa.text(self.drop_database.format(name=self.url.database)))

    @contextlib.contextmanager
    def _maintenance(self) -> cabc.Iterator[sa.Connection]:
        """An autocommit connection to the database named by the environment."""
        engine = sa.create_engine(self.server_url, poolclass=sa.pool.NullPool)

        try:
            with engine.connect() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
        finally:
            engine.dispose()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True

    return True


class PostgreSQL(Server):
    """PostgreSQL through psycopg 3."""

    name = "postgresql"
    server_url_setting = POSTGRES_URL
    idle_in_transaction_query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = :db"
        " AND state LIKE 'idle in transaction%'"
    )
    connections_query = (
        "SELECT pid FROM pg_stat_activity WHERE datname = :db"
        " AND pid <> pg_backend_pid()"
    )
    blocked_query = (
        "SELECT pid FROM pg_stat_activity WHERE datname = :db"
        " AND wait_event_type = 'Lock'"
    )
    kill_query = "SELECT pg_terminate_backend(:backend)"
    version_query = "SHOW server_version"
    databases_query = "SELECT datname FROM pg_database WHERE datname LIKE :prefix"
    create_database = 'CREATE DATABASE "{name}"'
    drop_database = 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'

    def backend_id(self, dbapi_connection: t.Any) -> int:
        return int(dbapi_connection.info.backend_pid)

    @contextlib.contextmanager
    def lock_table(self, table: str) -> cabc.Iterator[None]:
        with self.control.begin() as conn:
            conn.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            yield

    def timeout_query(self, seconds: float) -> dict[str, str]:
        return {"options": f"-c statement_timeout={int(seconds * 1000)}"}


class MariaDB(Server):
    """MariaDB through PyMySQL. InnoDB's REPEATABLE READ default freezes the
    snapshot of a transaction that outlives its request."""

    name = "mariadb"
    server_url_setting = MARIADB_URL
    idle_in_transaction_query = (
        "SELECT count(*) FROM information_schema.innodb_trx AS trx"
        " JOIN information_schema.processlist AS p"
        " ON p.id = trx.trx_mysql_thread_id"
        " WHERE p.db = :db AND p.command = 'Sleep'"
    )
    connections_query = (
        "SELECT id FROM information_schema.processlist"
        " WHERE db = :db AND id <> CONNECTION_ID()"
    )
    # INNODB_TRX does not reliably list a transaction waiting for a row lock
    # (seen on 10.11); a statement running this long is one, in these tests.
    blocked_query = (
        "SELECT id FROM information_schema.processlist WHERE db = :db"
        " AND id <> CONNECTION_ID() AND command = 'Query' AND time_ms > 200"
    )
    kill_query = "KILL CONNECTION :backend"
    version_query = "SELECT version()"
    databases_query = (
        "SELECT schema_name FROM information_schema.schemata"
        " WHERE schema_name LIKE :prefix"
    )
    create_database = "CREATE DATABASE `{name}`"
    drop_database = "DROP DATABASE IF EXISTS `{name}`"

    def backend_id(self, dbapi_connection: t.Any) -> int:
        return int(dbapi_connection.thread_id())

    def is_gone(self, error: sa.exc.OperationalError) -> bool:
        # ER_NO_SUCH_THREAD: the connection closed between listing and killing.
        return error.orig is not None and error.orig.args[0] == 1094

    @contextlib.contextmanager
    def lock_table(self, table: str) -> cabc.Iterator[None]:
        with self.control.connect() as conn:
            conn.execute(sa.text(f"LOCK TABLES {table} WRITE"))

            try:
                yield
            finally:
                conn.execute(sa.text("UNLOCK TABLES"))

    def timeout_query(self, seconds: float) -> dict[str, str]:
        return {"init_command": f"SET SESSION max_statement_time={seconds}"}


SERVERS: dict[str, type[Server]] = {"postgresql": PostgreSQL, "mariadb": MariaDB}
"""The servers every test runs on, by test id."""
