"""The view releases its sessions even when another extension's teardown raises,
whichever was set up first."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm

from .admin_app import build_app
from .admin_app import build_views
from .failing import register
from .failing import registered_before
from .sources import RELEASED_BY_VIEW
from .sources import SourceSetup


def _app(setup: SourceSetup, phase: str, order: str) -> Flask:
    """The admin over ``setup``, with a teardown that raises registered in
    ``phase``, before or after the admin as ``order`` says."""
    views = build_views(setup.source, setup.view_base, **setup.view_options)

    if order == "before":
        return build_app(registered_before(setup, phase), views)

    app = build_app(setup, views)
    register(app, phase)
    return app


@pytest.mark.filterwarnings(
    "ignore::flask_admin.contrib.sqla_lite.SharedSessionWarning"
)
@pytest.mark.parametrize("order", ("before", "after"))
@pytest.mark.parametrize("phase", ("appcontext", "request"))
@pytest.mark.parametrize("source_id", sorted(RELEASED_BY_VIEW))
def test_release_survives_a_failing_teardown(
    source_id: str, phase: str, order: str, db_url: str, seeded: dict[str, int]
) -> None:
    """After a request whose teardown raised, no connection is checked out, no
    transaction is open and a ``scoped_session``'s registry is empty."""
    setup = RELEASED_BY_VIEW[source_id](db_url)
    app = _app(setup, phase, order)
    pool = setup.engine_for(app).pool
    checkouts: list[None] = []
    # Nothing of the connection is kept: a test must not hold one past dispose().
    sa.event.listen(pool, "checkout", lambda *args: checkouts.append(None))

    with pytest.raises(RuntimeError, match="teardown failed"):
        app.test_client().get("/admin/person/")

    assert checkouts, "the request did not use the engine under test"
    assert pool.checkedout() == 0  # type: ignore[attr-defined]

    if isinstance(setup.source, orm.scoped_session):
        assert not setup.source.registry.has()

    if isinstance(setup.source, orm.Session):
        assert not setup.source.in_transaction()

    setup.dispose()


class _FailingClose(orm.Session):
    """A session whose ``close()`` raises after closing."""

    def close(self) -> None:
        super().close()
        raise RuntimeError("close failed")


def test_failed_release_is_logged_and_other_teardowns_run(
    db_url: str, seeded: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    """A release that raises is logged, and the app's own teardown functions
    still run."""
    engine = sa.create_engine(db_url)
    ran: list[str] = []
    setup = SourceSetup(
        orm.sessionmaker(engine, class_=_FailingClose),
        lambda app: None,
        lambda app: engine,
        engine.dispose,
    )
    app = build_app(setup, build_views(setup.source))

    @app.teardown_appcontext
    def record(exc: BaseException | None) -> None:
        ran.append("appcontext")

    with caplog.at_level(logging.ERROR, logger="flask_admin.contrib.sqla_lite"):
        assert app.test_client().get("/admin/person/").status_code == 200

    assert ran == ["appcontext"]
    assert "Releasing the admin's sessions failed." in caplog.text
    assert "close failed" in caplog.text
    engine.dispose()
