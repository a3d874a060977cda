"""The probe's report: a table per admin, or JSON."""

from __future__ import annotations

import dataclasses
import typing as t

import click

from ._probe import AdminProbe
from ._probe import Measurement
from ._probe import ProbeResult
from ._table import admins_json
from ._table import cells
from ._table import column_widths
from ._table import detail

_HEADER = ("VIEW", "MODEL", "CLASS", "REQUESTS", "SESSIONS", "CONNECTIONS", "VERDICT")


def count_problems(admins: list[AdminProbe]) -> int:
    """The number of views with a problem."""
    return sum(bool(view.problems) for admin in admins for view in admin.views)


def probe_lines(admins: list[AdminProbe], *, width: int, color: bool) -> list[str]:
    """The report as lines of text; ``color`` styles verdicts for a terminal.

    :param width: The width the lines under each row are wrapped to.
    """
    lines: list[str] = []

    if not admins:
        return ["No Flask-Admin 'Admin' is registered on the app."]

    for admin in admins:
        lines.append(_style(f"Admin {admin.name!r} at {admin.url}", color, bold=True))

        if admin.views:
            lines.extend(_view_lines(admin.views, width, color))
        else:
            lines.append("  (no SQLAlchemy model views probed)")

        lines.append("")

    total = sum(len(admin.views) for admin in admins)
    problems = count_problems(admins)
    summary = (
        f"{total} view{'s' if total != 1 else ''} probed, {problems} with a problem."
    )
    lines.append(
        _style(summary, color, fg="red" if problems else "green", bold=bool(problems))
    )
    return lines


def _view_lines(views: list[ProbeResult], width: int, color: bool) -> list[str]:
    rows = [_row(result) for result in views]
    widths = column_widths(_HEADER, rows)
    lines = [_style(cells(_HEADER, widths).rstrip(), color, bold=True)]

    for result, row in zip(views, rows, strict=True):
        verdict = _style(
            row[-1],
            color,
            fg="red" if result.problems else "green",
            bold=bool(result.problems),
        )
        lines.append(f"{cells(row[:-1], widths[:-1])}  {verdict}")
        lines.extend(detail(label, text, width) for label, text in _details(result))

    return lines


def _row(result: ProbeResult) -> tuple[str, ...]:
    measured = result.measured
    ended = measured.sessions - measured.sessions_left_open
    return (
        result.view.endpoint,
        result.view.model,
        "stock" if result.view.stock else "ours",
        str(len(measured.pages)),
        f"{ended}/{measured.sessions} ended",
        f"{measured.checkins}/{measured.checkouts} returned",
        "; ".join(
            "error" if problem.startswith("error: ") else problem
            for problem in result.problems
        )
        or "ok",
    )


def _details(result: ProbeResult) -> list[tuple[str, str]]:
    measured = result.measured
    held = " ".join(map(str, measured.held)) or "-"
    details = [
        ("pages", ", ".join(measured.pages) or "none"),
        ("connections held after each request", held),
        (
            "after the last",
            f"{measured.sessions_left_open} session(s) in a transaction;"
            f" {_idle(measured)}",
        ),
    ]

    if measured.stale_check is not None:
        stale = {True: "stale rows: ", False: "fresh rows: ", None: ""}[measured.stale]
        details.append(("write check", f"{stale}{measured.stale_check}"))

    if result.view.verdict.closed_by is not None:
        details.append(("closed by", result.view.verdict.closed_by))

    details.extend(
        (problem.split(": ", 1)[0], problem.split(": ", 1)[1])
        for problem in result.problems
        if problem.startswith("error: ")
    )

    if result.fix is not None:
        details.append(("fix", result.fix))

    return details


def _idle(measured: Measurement) -> str:
    if measured.idle_in_transaction is None:
        return f"the server {measured.server_check}"

    return (
        f"{measured.idle_in_transaction} idle in transaction on the server"
        f" ({measured.server_check})"
    )


def _style(text: str, color: bool, **style: t.Any) -> str:
    return click.style(text, **style) if color else text


def probe_json(admins: list[AdminProbe]) -> dict[str, t.Any]:
    """The report for machines."""
    return admins_json(admins, _view_json, count_problems(admins))


def _view_json(result: ProbeResult) -> dict[str, t.Any]:
    view = result.view
    return {
        "endpoint": view.endpoint,
        "name": view.name,
        "model": view.model,
        "view_class": view.view_class,
        "stock": view.stock,
        "source": view.verdict.source,
        "description": view.verdict.description,
        "closed_by": view.verdict.closed_by,
        "verdict": result.verdict,
        "problems": result.problems,
        "fix": result.fix,
        "measured": dataclasses.asdict(result.measured),
        "seconds": round(result.seconds, 3),
    }
