"""The compatibility page's stock-vs-ours table and the script that measures it."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
from sqlalchemy import orm
from sqlalchemy.ext import asyncio as sa_async

from flask_admin.contrib.sqla_lite import ModelView
from scripts import compat_table

COMMITTED = pathlib.Path(__file__).parents[2] / "doc" / "_includes" / "compat_table.rst"
"""The table the compatibility page includes."""

SESSIONMAKER = next(
    case for case in compat_table.CASES if case.label == "``sessionmaker(engine)``"
)


@pytest.fixture(scope="module")
def rows() -> list[compat_table.Row]:
    """Every source measured once with the installed versions."""
    return compat_table.measure_all()


def test_committed_table_is_current(rows: list[compat_table.Row]) -> None:
    """The table committed for the docs is what the script prints now."""
    committed = COMMITTED.read_text()
    measured_with = f"Measured with {compat_table.versions()}."

    if not committed.startswith(measured_with + "\n"):
        pytest.skip(
            f"{COMMITTED.name} was measured with other versions than these"
            f" ({measured_with}); it is checked in the environment it documents."
        )

    assert compat_table.render(rows) == committed


def test_every_synchronous_source_works(rows: list[compat_table.Row]) -> None:
    """Our view serves fresh rows and releases everything for every synchronous
    source, and refuses the async ones at registration."""
    ours = {row.label: row.ours for row in rows}
    asynchronous = {label for label in ours if "async" in label.lower()}
    expected = {
        label: (
            "TypeError at registration"
            if label in asynchronous
            else "works; warns SharedSessionWarning"
            if label == "``Session(engine)``"
            else "works"
        )
        for label in ours
    }

    # SQLAlchemy 1.4 has no async_sessionmaker (nor, before 1.4.19,
    # async_scoped_session), so no row for them there.
    assert len(asynchronous) == 2 + sum(
        hasattr(sa_async, name)
        for name in ("async_sessionmaker", "async_scoped_session")
    )
    assert ours == expected


class HeldSessionView(ModelView):
    """Keeps the first session it opens for every later request."""

    held: orm.Session | None = None

    def get_session(self) -> orm.Session:
        if self.held is None:
            self.held = t.cast(orm.Session, self.session_source.open())

        return self.held


class LeakedSessionView(ModelView):
    """Opens a new session per request and never closes it."""

    def get_session(self) -> orm.Session:
        return t.cast(orm.Session, self.session_source.open())


@pytest.mark.parametrize(
    ("view_class", "outcome"),
    (
        (HeldSessionView, "stale rows, idle in transaction, connection held"),
        (LeakedSessionView, "idle in transaction, a connection leaked per request"),
        (ModelView, "works"),
    ),
    ids=("held", "leaked", "released"),
)
def test_measure_detects_sessions_left_open(
    view_class: type[ModelView], outcome: str, tmp_path: pathlib.Path
) -> None:
    """The script reports a session kept across requests as stale and held, and
    one left open per request as a leak."""
    assert compat_table.measure(SESSIONMAKER, view_class, tmp_path) == outcome
