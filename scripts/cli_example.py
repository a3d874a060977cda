"""Run ``flask admin-sessions`` on the library example and write what it prints
to ``doc/_includes/cli_example.rst``, the fragment the docs include; run
``flask admin-sessions --probe`` on every example and write what it prints into
the example's ``README.rst``, between its two ``admin-sessions-probe`` comments.

The command runs in a process of its own, from the repository root, exactly as
the fragment shows it. The example's app factory creates and seeds its
database, so ``DATABASE_URL`` points it to a SQLite file in a temporary folder:
nothing is written into the repository. Its output is piped, so it is plain
text wrapped at 80 columns. Run::

    python scripts/cli_example.py

``tests/examples/test_cli_examples.py`` fails when the committed fragment or a
README is not what this writes.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
"""The repository root, where the command runs."""

INCLUDE = ROOT / "doc" / "_includes" / "cli_example.rst"
"""The fragment the docs include."""

COMMAND = ("flask", "--app", "examples/sqla_lite/app.py", "admin-sessions")
"""The command line the fragment shows, and runs from :data:`ROOT`."""

PROBE_OPTIONS: dict[str, tuple[str, ...]] = {
    "sqla_lite": (),
    "callable": ("--write-check",),
    "multitenant": ("--url-value", "tenant=acme"),
}
"""Every example, and the options its README's probe is run with."""

PROBE_START = ".. admin-sessions-probe: start (written by scripts/cli_example.py)"
PROBE_END = ".. admin-sessions-probe: end"
"""The comments around the probe's output in each example's README."""


def flask(
    *args: str, database_url: str, cwd: pathlib.Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``flask ARGS`` with this interpreter, its output captured.

    The environment is this one without Flask's variables or ``.env`` files,
    with ``DATABASE_URL`` set and no bytecode written next to the examples.

    :param database_url: The examples' ``DATABASE_URL``.
    :param cwd: The working directory.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("FLASK_")
    }
    env.update(
        DATABASE_URL=database_url, FLASK_SKIP_DOTENV="1", PYTHONDONTWRITEBYTECODE="1"
    )
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def database_url(example: str, directory: pathlib.Path) -> str:
    """The example's ``DATABASE_URL``, a SQLite file (per tenant) in ``directory``."""
    name = "tenant_{tenant}" if example == "multitenant" else example
    return f"sqlite:///{directory / name}.sqlite3"


def run_example(directory: pathlib.Path) -> str:
    """Return what :data:`COMMAND` prints, with the example's database in
    ``directory``.

    :raises RuntimeError: The command failed.
    """
    return _output(COMMAND, database_url("sqla_lite", directory))


def probe_command(example: str) -> tuple[str, ...]:
    """The probe's command line for ``example``, run from :data:`ROOT`."""
    app = f"examples/{example}/app.py"
    return ("flask", "--app", app, "admin-sessions", "--probe", *PROBE_OPTIONS[example])


def run_probe(example: str, directory: pathlib.Path) -> str:
    """Return what :func:`probe_command` prints, with the example's database in
    ``directory``.

    :raises RuntimeError: The command failed.
    """
    return _output(probe_command(example), database_url(example, directory))


def _output(command: tuple[str, ...], url: str) -> str:
    result = flask(*command[1:], database_url=url)

    if result.returncode != 0:
        raise RuntimeError(
            f"'{' '.join(command)}' exited with status {result.returncode}:\n"
            f"{result.stderr}"
        )

    return result.stdout


def readme(example: str) -> pathlib.Path:
    """The example's README."""
    return ROOT / "examples" / example / "README.rst"


def with_probe(example: str, text: str, output: str) -> str:
    """The README ``text`` with the probe's ``output`` between its comments.

    :raises ValueError: The README lacks the comments.
    """
    start, end = text.find(PROBE_START), text.find(PROBE_END)

    if start < 0 or end < start:
        raise ValueError(
            f"{readme(example).relative_to(ROOT)} needs the lines {PROBE_START!r}"
            f" and {PROBE_END!r} where the probe's output goes."
        )

    block = [
        PROBE_START,
        "",
        ".. code-block:: text",
        "",
        f"    $ {' '.join(probe_command(example))}",
        *(f"    {line}" if line else "" for line in output.splitlines()),
        "",
    ]
    return text[:start] + "\n".join(block) + "\n" + text[end:]


def render(output: str) -> str:
    """The reStructuredText fragment showing :data:`COMMAND` and its ``output``."""
    lines = [
        ".. Written by scripts/cli_example.py and checked by",
        "   tests/examples/test_cli_examples.py; do not edit it by hand.",
        "",
        "The ``admin-sessions`` command (see :doc:`/cli`) on the library example in",
        "``examples/sqla_lite``, whose views are given the Flask-SQLAlchemy-Lite",
        "``db`` at import time:",
        "",
        ".. code-block:: text",
        "",
        f"    $ {' '.join(COMMAND)}",
        *(f"    {line}" if line else "" for line in output.splitlines()),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write :data:`INCLUDE` and the probe's output into each example's README."""
    with tempfile.TemporaryDirectory() as name:
        text = render(run_example(pathlib.Path(name)))

    INCLUDE.write_text(text)
    print(f"Wrote {INCLUDE.relative_to(ROOT)}")

    for example in PROBE_OPTIONS:
        with tempfile.TemporaryDirectory() as name:
            output = run_probe(example, pathlib.Path(name))

        path = readme(example)
        path.write_text(with_probe(example, path.read_text(), output))
        print(f"Wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
