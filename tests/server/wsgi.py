"""The admin that real WSGI servers (gunicorn, waitress) serve in the production
runs, configured by the environment, one app per worker process.

``SQLA_LITE_SERVE_URL``
    The database URL, pool settings included (see :func:`tests.server.pools.with_pool`).
``SQLA_LITE_SERVE_VARIANT``
    ``ours``: this package's views over a ``sessionmaker``; ``stock``: stock
    Flask-Admin's views over a raw ``scoped_session``; ``lite``: this package's
    views over a Flask-SQLAlchemy-Lite ``db``; ``lite-fixed``: the same on
    :class:`GeventFlask`.
``SQLA_LITE_SERVE_PGBOUNCER``
    ``1`` when the URL points at PgBouncer in transaction pooling, which cannot
    keep psycopg's server-side prepared statements across transactions.
``SQLA_LITE_SERVE_REPORT``
    A directory: each worker writes the state of its pool there as it exits.
"""

from __future__ import annotations

import asyncio
import atexit
import collections.abc as cabc
import contextvars
import json
import os
import pathlib
import typing as t
import warnings

import flask_sqlalchemy_lite
import sqlalchemy as sa
from flask import Flask
from flask_admin.contrib.sqla import view as stock_view
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import ModelView
from tests.server.pools import PoolTracker
from tests.sqla.admin_app import build_app
from tests.sqla.admin_app import build_views
from tests.sqla.sources import SourceSetup

VARIANTS = ("ours", "stock", "lite", "lite-fixed")


class GeventFlask(Flask):
    """Runs ``async def`` views and teardowns on gevent's pool of real threads,
    each with an event loop of its own, instead of asgiref's threads, which
    gevent turns into greenlets sharing one."""

    def async_to_sync(
        self, func: cabc.Callable[..., cabc.Coroutine[t.Any, t.Any, t.Any]]
    ) -> cabc.Callable[..., t.Any]:
        import gevent  # type: ignore[import-untyped]

        def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
            context = contextvars.copy_context()  # keeps 'g' and 'current_app'
            return gevent.get_hub().threadpool.apply(
                context.run, (asyncio.run, func(*args, **kwargs))
            )

        return run


def _create_app() -> tuple[Flask, PoolTracker]:
    url = os.environ["SQLA_LITE_SERVE_URL"]
    variant = os.environ["SQLA_LITE_SERVE_VARIANT"]
    connect_args: dict[str, t.Any] = {}

    if os.environ.get("SQLA_LITE_SERVE_PGBOUNCER") == "1":
        # psycopg 3 prepares a statement on the server after 5 executions;
        # PgBouncer 1.18 in transaction pooling may run the next on another
        # server connection, where it does not exist.
        connect_args["prepare_threshold"] = None

    if variant in ("lite", "lite-fixed"):
        db = flask_sqlalchemy_lite.SQLAlchemy()
        config = {"url": url, "connect_args": connect_args}
        setup = SourceSetup(
            db,
            init_app=lambda app: _init_lite(db, app, config),
            engine_for=lambda app: _lite_engine(db, app),
            dispose=lambda: None,
        )
        views = build_views(db)
        app = build_app(setup, views, GeventFlask if variant == "lite-fixed" else Flask)
        return app, PoolTracker(setup.engine_for(app), lambda connection: 0)

    engine = sa.create_engine(url, connect_args=connect_args)
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


def _init_lite(
    db: flask_sqlalchemy_lite.SQLAlchemy, app: Flask, config: dict[str, t.Any]
) -> None:
    app.config["SQLALCHEMY_ENGINES"] = {"default": config}
    db.init_app(app)


def _lite_engine(db: flask_sqlalchemy_lite.SQLAlchemy, app: Flask) -> sa.Engine:
    with app.app_context():
        return db.engine


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
