"""Pool settings carried in the database URL, and a counter of pool traffic.

Every session source builds its engine from a URL string (Flask-SQLAlchemy-Lite,
Flask-SQLAlchemy, ``create_engine``), so the tests put the pool settings in the
URL: a SQLAlchemy :class:`~sqlalchemy.engine.CreateEnginePlugin` named
``sqla_lite_test_pool`` reads them from the query string and hands them to the
pool. One URL then configures every source the same way.
"""

from __future__ import annotations

import collections.abc as cabc
import threading
import typing as t

import sqlalchemy as sa
from sqlalchemy.dialects import plugins
from sqlalchemy.engine import CreateEnginePlugin

PLUGIN = "sqla_lite_test_pool"
"""The plugin's name in the URL's ``plugin`` query argument."""

_POOL_ARGUMENTS: dict[str, tuple[str, cabc.Callable[[str], object]]] = {
    "test_pool_size": ("pool_size", int),
    "test_max_overflow": ("max_overflow", int),
    "test_pool_timeout": ("timeout", float),
    "test_pre_ping": ("pre_ping", lambda value: value == "true"),
}
"""URL query argument -> (pool argument, conversion)."""


class PoolSettingsPlugin(CreateEnginePlugin):
    """Moves the ``test_*`` pool settings from the URL to the pool."""

    def __init__(self, url: sa.URL, kwargs: dict[str, t.Any]) -> None:
        super().__init__(url, kwargs)
        self.pool_args = {
            name: convert(str(url.query[key]))
            for key, (name, convert) in _POOL_ARGUMENTS.items()
            if key in url.query
        }

    def update_url(self, url: sa.URL) -> sa.URL:
        """Drop the settings, which the driver would not understand."""
        return url.difference_update_query(_POOL_ARGUMENTS)

    def handle_pool_kwargs(
        self, pool_cls: type[sa.Pool], pool_args: dict[str, t.Any]
    ) -> None:
        """Apply the settings over whatever the source's extension chose."""
        pool_args.update(self.pool_args)


plugins.register(PLUGIN, __name__, PoolSettingsPlugin.__name__)


def with_pool(
    url: sa.URL,
    *,
    size: int,
    timeout: float = 1.0,
    pre_ping: bool = False,
) -> str:
    """Return ``url`` as a string that gives every engine built from it a pool of
    ``size`` connections, no overflow, ``timeout`` seconds of waiting for one."""
    configured = url.update_query_dict(
        {
            "plugin": PLUGIN,
            "test_pool_size": str(size),
            "test_max_overflow": "0",
            "test_pool_timeout": str(timeout),
            "test_pre_ping": "true" if pre_ping else "false",
        }
    )
    return configured.render_as_string(hide_password=False)


class PoolTracker:
    """Counts checkouts and checkins of an engine's pool, as SQLAlchemy's own
    test reaper does, and remembers the server-side id of every connection."""

    def __init__(
        self, engine: sa.Engine, backend_id: cabc.Callable[[t.Any], int]
    ) -> None:
        self.engine = engine
        self.checkouts = 0
        self.checkins = 0
        self.most_checked_out = 0
        self.backends: list[int] = []
        self._backend_id = backend_id
        self._lock = threading.Lock()
        sa.event.listen(engine, "connect", self._on_connect)
        sa.event.listen(engine, "checkout", self._on_checkout)
        sa.event.listen(engine, "checkin", self._on_checkin)

    def _on_connect(self, dbapi_connection: t.Any, record: t.Any) -> None:
        backend = self._backend_id(dbapi_connection)

        with self._lock:
            self.backends.append(backend)

    def _on_checkout(
        self, dbapi_connection: t.Any, record: t.Any, proxy: t.Any
    ) -> None:
        with self._lock:
            self.checkouts += 1
            self.most_checked_out = max(
                self.most_checked_out, self.checkouts - self.checkins
            )

    def _on_checkin(self, dbapi_connection: t.Any, record: t.Any) -> None:
        with self._lock:
            self.checkins += 1

    def checked_out(self) -> int:
        """Connections checked out right now, read from the pool itself."""
        return self.engine.pool.checkedout()  # type: ignore[attr-defined,no-any-return]
