"""``flask admin-sessions --probe``: run the probe and print its report."""

from __future__ import annotations

import collections.abc as cabc
import json
import sys

import click
from flask import Flask

from ._probe import probe_app
from ._probe_report import count_problems
from ._probe_report import probe_json
from ._probe_report import probe_lines


def run_probe(
    app: Flask,
    *,
    as_json: bool,
    write_check: bool,
    endpoints: cabc.Sequence[str],
    timeout: float,
    url_values: cabc.Sequence[str],
    width: int,
) -> int:
    """Probe ``app``, print the report, and return the number of views with a
    problem. Progress goes to standard error, the report to standard output.

    :raises click.UsageError: A bad ``--view`` or ``--url-value``.
    """
    try:
        admins = probe_app(
            app,
            endpoints=endpoints or None,
            write_check=write_check,
            timeout=timeout,
            url_values=_url_values(url_values),
            progress=lambda line: click.echo(line, err=True),
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None

    if as_json:
        click.echo(json.dumps(probe_json(admins), indent=2))
    else:
        color = sys.stdout is not None and sys.stdout.isatty()

        for line in probe_lines(admins, width=width, color=color):
            click.echo(line)

    return count_problems(admins)


def _url_values(pairs: cabc.Sequence[str]) -> dict[str, str]:
    values = {}

    for pair in pairs:
        name, equals, value = pair.partition("=")

        if not equals or not name:
            raise click.UsageError(
                f"'--url-value {pair}' is not NAME=VALUE, e.g. '--url-value"
                " tenant=acme'."
            )

        values[name] = value

    return values
