"""The shapes shared by the ``admin-sessions`` reports: plain-text tables, and
the JSON of the admins and their views."""

from __future__ import annotations

import collections.abc as cabc
import textwrap
import typing as t

V = t.TypeVar("V")
V_co = t.TypeVar("V_co", covariant=True)


class Admin(t.Protocol[V_co]):
    """A report on one ``Admin``: its name, URL, and a report per view."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def views(self) -> cabc.Sequence[V_co]: ...


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


def admins_json(
    admins: cabc.Sequence[Admin[V]],
    view_json: cabc.Callable[[V], dict[str, t.Any]],
    problems: int,
) -> dict[str, t.Any]:
    """The JSON report: each admin with its views, and the number of views with
    a problem."""
    return {
        "admins": [
            {
                "name": admin.name,
                "url": admin.url,
                "views": [view_json(view) for view in admin.views],
            }
            for admin in admins
        ],
        "problems": problems,
    }
