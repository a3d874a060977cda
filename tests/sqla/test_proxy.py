"""The session proxy forwards to the session it resolves on each use."""

from __future__ import annotations

from unittest import mock

import sqlalchemy as sa
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite._proxy import SessionProxy


def test_session_methods_are_found_on_the_proxy_class() -> None:
    """A session method is read without a failed lookup reaching ``__getattr__``."""
    session = orm.Session()
    proxy = SessionProxy(lambda: session)

    with mock.patch.object(SessionProxy, "__getattr__", side_effect=AssertionError):
        assert proxy.commit == session.commit
        assert proxy.no_autoflush is not None


def test_forwarding_resolves_on_each_use() -> None:
    """Each use reads the session resolved then, instance attributes too."""
    engine = sa.create_engine("sqlite://")
    sessions = iter([orm.Session(engine), orm.Session()])
    proxy = SessionProxy(lambda: next(sessions))

    assert proxy.get_bind() is engine
    assert proxy.bind is None


def test_reading_the_class_resolves_nothing() -> None:
    """The proxy's class attributes are read without resolving a session."""
    resolve = mock.Mock()
    SessionProxy(resolve)
    public = [name for name in dir(orm.Session) if not name.startswith("_")]

    assert all(getattr(SessionProxy, name) is not None for name in public)
    resolve.assert_not_called()
