"""The ``--write-check``: change one row out of band between two requests, then
put it back."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import hashlib
import html
import typing as t

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.engine import Engine

from ._server import side_engine

_MARKER = "probe-"
"""The start of the value written; the rest is a hash of the row and column, so
the same app gives the same report."""


class RowChange:
    """One text column of one row, changed to a marker and restored.

    :param engine: The view's engine; the change goes through
        :func:`side_engine`, in a transaction of its own that is committed.
    """

    def __init__(
        self,
        engine: Engine,
        table: sa.Table,
        key: sa.ColumnElement[t.Any],
        row_id: object,
        column: sa.Column[t.Any],
        original: str,
        marker: str,
    ) -> None:
        self.engine = engine
        self.table = table
        self.key = key
        self.row_id = row_id
        self.column = column
        self.original = original
        self.marker = marker

    @property
    def description(self) -> str:
        return (
            f"set {self.table.name}.{self.column.name} of row {self.row_id!r} to"
            f" {self.marker!r} between two list requests, then back"
        )

    @contextlib.contextmanager
    def applied(self) -> cabc.Iterator[None]:
        """Commit the marker, and restore the original value afterwards (only if
        the row still holds the marker)."""
        side = side_engine(self.engine)

        try:
            self._update(side, self.original, self.marker)
            yield
        finally:
            self._update(side, self.marker, self.original)
            side.dispose()

    def seen_stale(self, list_html: str) -> bool:
        """Whether the list page shows the original value instead of the marker."""
        return self.marker not in list_html

    def _update(self, engine: Engine, old: str, new: str) -> None:
        with engine.begin() as connection:
            connection.execute(
                sa.update(self.table)
                .where(self.key == self.row_id, self.column == old)
                .values({self.column.name: new})
            )


def plan_row_change(
    view: t.Any, engine: Engine | None, row_id: str | None, list_html: str
) -> RowChange | str:
    """Choose the row and column to change: the first row of the list page, and
    a text column the list shows, neither a key nor empty.

    :return: The change, or why there is none.
    """
    if engine is None:
        return "the list page began no session"

    if row_id is None:
        return "the list page links to no row (details and edit are disabled)"

    mapper = orm.class_mapper(view.model)

    if len(mapper.primary_key) != 1:
        return "the model's primary key has more than one column"

    (key,) = mapper.primary_key
    table = key.table

    try:
        typed_id = key.type.python_type(row_id)
    except (NotImplementedError, TypeError, ValueError):
        typed_id = row_id

    listed = {name for name, _ in view._list_columns}
    side = side_engine(engine)

    try:
        with side.connect() as connection:
            row = connection.execute(
                sa.select(table).where(key == typed_id)
            ).one_or_none()
    finally:
        side.dispose()

    if row is None:
        return f"row {row_id!r} of {table.name!r} was not found"

    for prop in mapper.column_attrs:
        (column, *_) = prop.columns

        if (
            prop.key in listed
            and isinstance(column, sa.Column)
            and column.table is table
            and isinstance(column.type, sa.String)
            and not column.primary_key
            and not column.foreign_keys
            and isinstance(row._mapping[column], str)
            and row._mapping[column]
            and html.escape(row._mapping[column]) in list_html
        ):
            length = column.type.length or 16
            digest = hashlib.sha256(f"{table.name}.{column.name}.{row_id}".encode())
            marker = (_MARKER + digest.hexdigest())[: min(length, 16)]

            if len(marker) < len(_MARKER) + 4:
                continue

            original = row._mapping[column]
            return RowChange(engine, table, key, typed_id, column, original, marker)

    return "the list shows no text column of the row that could be changed"
