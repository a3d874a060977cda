"""Plain-text tables of the ``admin-sessions`` reports."""

from __future__ import annotations

import textwrap
import typing as t

PLAIN_WIDTH = 80
"""The width the lines under a row are wrapped to when not in a terminal, so
piped output is the same wherever it is produced."""


def column_widths(
    header: t.Sequence[str], rows: t.Sequence[t.Sequence[str]]
) -> list[int]:
    """The width of each column: its longest cell."""
    return [max(map(len, column)) for column in zip(header, *rows, strict=True)]


def cells(cells: t.Sequence[str], widths: t.Sequence[int]) -> str:
    """Left-align ``cells`` in columns of ``widths``, indented under the admin."""
    return "  " + "  ".join(
        cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
    )


def detail(label: str, text: str, width: int) -> str:
    """A labelled line under a row, wrapped to ``width``."""
    return textwrap.fill(
        f"{label}: {text}",
        width=width,
        initial_indent="      ",
        subsequent_indent="        ",
        break_long_words=False,
        break_on_hyphens=False,
    )
