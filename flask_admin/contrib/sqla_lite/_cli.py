"""``flask admin-sessions``: how each admin view of the app gets its session."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import typing as t

import click
from flask import current_app
from flask.cli import with_appcontext

from ._diagnose import AdminReport
from ._diagnose import diagnose_app
from ._diagnose import Scope
from ._diagnose import Status
from ._diagnose import ViewReport
from ._probe_cli import run_probe
from ._table import admins_json
from ._table import cells
from ._table import column_widths
from ._table import detail
from ._table import PLAIN_WIDTH

_STATUS_STYLE: dict[Status, dict[str, t.Any]] = {
    "ok": {"fg": "green"},
    "fragile": {"fg": "yellow", "bold": True},
    "app-lifetime": {"fg": "red", "bold": True},
    "broken": {"fg": "red", "bold": True},
}

_SCOPE_TEXT: dict[Scope, str] = {
    "request": "per request",
    "thread": "per thread",
    "key": "per scope key",
    "app": "shared",
    "none": "-",
}

_HEADER = ("VIEW", "MODEL", "CLASS", "SOURCE", "SESSION", "STATUS")


@click.command("admin-sessions", short_help="Show how admin views get their sessions.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit with status 1 if any view's session is app-lifetime, fragile or"
    " broken (with --probe: if any view has a problem).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--probe",
    is_flag=True,
    help="Measure: request each view's read-only pages through the test client"
    " and report the sessions and connections they leave behind.",
)
@click.option(
    "--write-check",
    is_flag=True,
    help="With --probe: change one text value of one row per view between two"
    " requests to detect stale rows, then restore it.",
)
@click.option(
    "--view",
    "endpoints",
    multiple=True,
    metavar="ENDPOINT",
    help="With --probe: probe only this view (repeatable).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    default=30.0,
    show_default=True,
    help="With --probe: seconds each view may take.",
)
@click.option(
    "--url-value",
    "url_values",
    multiple=True,
    metavar="NAME=VALUE",
    help="With --probe: a value for a variable of the admin's URLs, such as"
    " tenant=acme for /<tenant>/admin (repeatable).",
)
@with_appcontext
def admin_sessions(
    check: bool,
    as_json: bool,
    probe: bool,
    write_check: bool,
    endpoints: tuple[str, ...],
    timeout: float,
    url_values: tuple[str, ...],
) -> None:
    """Show how each Flask-Admin SQLAlchemy view gets its session.

    One row per SQLAlchemy model view of every Admin on the app, stock
    Flask-Admin views included: the session source, whether each request gets
    its own session, who closes it, and what is wrong. The classification opens
    no database connection; loading the app runs the app's own code.

    With --probe, each view's pages are requested through the app's test client
    on the app's own database, read-only unless --write-check is given, and the
    sessions and connections left behind are measured.
    """
    if not probe:
        for name, given in (
            ("--write-check", write_check),
            ("--view", endpoints),
            ("--url-value", url_values),
        ):
            if given:
                raise click.UsageError(f"'{name}' needs '--probe'.")

    if probe:
        problems = run_probe(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            as_json=as_json,
            write_check=write_check,
            endpoints=endpoints,
            timeout=timeout,
            url_values=url_values,
            width=_detail_width(),
        )
    else:
        admins = diagnose_app(current_app)
        problems = sum(
            view.verdict.status != "ok" for admin in admins for view in admin.views
        )

        if as_json:
            report = admins_json(admins, _view_json, problems)
            click.echo(json.dumps(report, indent=2))
        else:
            _print_tables(admins, problems)

    if check and problems:
        raise click.exceptions.Exit(1)


def _view_json(view: ViewReport) -> dict[str, t.Any]:
    fields = dataclasses.asdict(view)
    fields.update(fields.pop("verdict"))
    return fields


def _print_tables(admins: list[AdminReport], problems: int) -> None:
    if not admins:
        click.echo(
            f"No Flask-Admin 'Admin' is registered on the app {current_app.name!r}."
        )
        return

    for admin in admins:
        click.secho(f"Admin {admin.name!r} at {admin.url}", bold=True)

        if admin.views:
            _print_views(admin.views)
        else:
            click.echo("  (no SQLAlchemy model views)")

        click.echo()

    total = sum(len(admin.views) for admin in admins)
    summary = f"{total} view{'s' if total != 1 else ''}, {problems} with a problem."
    click.secho(summary, fg="red" if problems else "green", bold=bool(problems))


def _print_views(views: list[ViewReport]) -> None:
    rows = [
        (
            view.endpoint,
            view.model,
            "stock" if view.stock else "ours",
            view.verdict.source,
            _SCOPE_TEXT[view.verdict.scope],
            view.verdict.status,
        )
        for view in views
    ]
    widths = column_widths(_HEADER, rows)
    click.secho(cells(_HEADER, widths).rstrip(), bold=True)
    detail_width = _detail_width()

    for view, row in zip(views, rows, strict=True):
        line = cells(row[:-1], widths[:-1])
        status = click.style(row[-1], **_STATUS_STYLE[view.verdict.status])
        click.echo(f"{line}  {status}")
        if view.verdict.closed_by is not None:
            _print_detail("closed by", view.verdict.closed_by, {}, detail_width)

        if view.verdict.warning is not None:
            style = _STATUS_STYLE[view.verdict.status]
            _print_detail("warning", view.verdict.warning, style, detail_width)


def _detail_width() -> int:
    """The terminal's width (at least 60), or a fixed width when piped."""
    if _stdout_is_terminal():
        return max(shutil.get_terminal_size().columns, 60)

    return PLAIN_WIDTH


def _stdout_is_terminal() -> bool:
    """Whether standard output, where :func:`click.echo` writes, is a terminal."""
    return sys.stdout is not None and sys.stdout.isatty()


def _print_detail(label: str, text: str, style: dict[str, t.Any], width: int) -> None:
    """Print a labelled line under a row, wrapped to the terminal."""
    click.secho(detail(label, text, width), **style)
