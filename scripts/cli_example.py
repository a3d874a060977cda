"""Run ``flask admin-sessions`` on the library example and write what it prints
to ``doc/_includes/cli_example.rst``, the fragment the docs include.

The command runs in a process of its own, from the repository root, exactly as
the fragment shows it. The example's app factory creates and seeds its
database, so ``DATABASE_URL`` points it to a SQLite file in a temporary folder:
nothing is written into the repository. Its output is piped, so it is plain
text wrapped at 80 columns. Run::

    python scripts/cli_example.py

``tests/examples/test_cli_examples.py`` fails when the committed fragment is not
what this writes.
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


def run_example(directory: pathlib.Path) -> str:
    """Return what :data:`COMMAND` prints, with the example's database in
    ``directory``.

    :raises RuntimeError: The command failed.
    """
    url = f"sqlite:///{directory / 'sqla_lite.sqlite3'}"
    result = flask(*COMMAND[1:], database_url=url)

    if result.returncode != 0:
        raise RuntimeError(
            f"'{' '.join(COMMAND)}' exited with status {result.returncode}:\n"
            f"{result.stderr}"
        )

    return result.stdout


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
    """Write :data:`INCLUDE`."""
    with tempfile.TemporaryDirectory() as name:
        text = render(run_example(pathlib.Path(name)))

    INCLUDE.write_text(text)
    print(f"Wrote {INCLUDE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
