"""The admin that real WSGI servers (gunicorn, waitress) serve in the production
runs, configured by the environment, one app per worker process.

``SQLA_LITE_SERVE_URL``
    The database URL, pool settings included (see :func:`tests.server.pools.with_pool`).
``SQLA_LITE_SERVE_VARIANT``
    ``ours``: this package's views over a ``sessionmaker``; ``stock``: stock
    Flask-Admin's views over a raw ``scoped_session``.
``SQLA_LITE_SERVE_PGBOUNCER``
    ``1`` when the URL points at PgBouncer in transaction pooling, which cannot
    keep psycopg's server-side prepared statements across transactions.
``SQLA_LITE_SERVE_REPORT``
    A directory: each worker writes the state of its pool there as it exits.
"""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import typing as t
import warnings

import sqlalchemy as sa
from flask_admin.contrib.sqla import view as stock_view
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import ModelView
from tests.server.pools import PoolTracker
from tests.sqla.admin_app import build_app
from tests.sqla.admin_app import build_views
from tests.sqla.sources import SourceSetup

VARIANTS = ("ours", "stock")


def _create_app() -> tuple[t.Any, PoolTracker]:
    connect_args: dict[str, t.Any] = {}

    if os.environ.get("SQLA_LITE_SERVE_PGBOUNCER") == "1":
        # psycopg 3 prepares a statement on the server after 5 executions;
        # PgBouncer 1.18 in transaction pooling may run the next on another
        # server connection, where it does not exist.
        connect_args["prepare_threshold"] = None

    engine = sa.create_engine(
        os.environ["SQLA_LITE_SERVE_URL"], connect_args=connect_args
    )
    variant = os.environ["SQLA_LITE_SERVE_VARIANT"]
    setup = SourceSetup(
        orm.sessionmaker(engine)
        if variant == "ours"
        else orm.scoped_session(orm.sessionmaker(engine)),
        init_app=lambda app: None,
        engine_for=lambda app: engine,
        dispose=engine.dispose,
    )

    with warnings.catch_warnings():
        # Stock Flask-Admin deprecates a session object as the source.
        warnings.simplefilter("ignore", DeprecationWarning)
        views = build_views(
            setup.source, ModelView if variant == "ours" else stock_view.ModelView
        )

    return build_app(setup, views), PoolTracker(engine, lambda connection: 0)


app, _pool = _create_app()


@atexit.register
def _report_pool() -> None:
    """Write this worker's pool state, read before any garbage collection."""
    report = {
        "pid": os.getpid(),
        "checked_out": _pool.checked_out(),
        "checkouts": _pool.checkouts,
        "checkins": _pool.checkins,
        "connections": len(_pool.backends),
    }
    directory = pathlib.Path(os.environ["SQLA_LITE_SERVE_REPORT"])
    (directory / f"{os.getpid()}.json").write_text(json.dumps(report))


def _serve_with_waitress(port: int, threads: int) -> None:
    """Serve :data:`app` with waitress until SIGTERM, then exit normally so the
    pool report is written."""
    import logging
    import signal
    import sys

    import waitress  # type: ignore[import-untyped]

    # It warns of every request queued behind busy threads: the load does that.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


if __name__ == "__main__":
    import sys

    _serve_with_waitress(int(sys.argv[1]), int(sys.argv[2]))
