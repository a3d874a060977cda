"""``flask admin-sessions`` on each example, run by ``flask`` in a process of its
own: listed in ``flask --help``, passing ``--check``, and shown as it is in the
docs."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import pathlib

import pytest

from scripts import cli_example

EXAMPLES = tuple(cli_example.PROBE_OPTIONS)
"""Every example; each serves two SQLAlchemy model views, one session per request."""

HELP_LINE = "  admin-sessions  Show how admin views get their sessions."
"""The command's line in the ``Commands`` list of ``flask --help``."""


def files_under(directory: pathlib.Path) -> set[pathlib.Path]:
    """Every file and folder under ``directory``, but bytecode, which the
    commands do not write and other tests importing the examples may."""
    return {path for path in directory.rglob("*") if "__pycache__" not in path.parts}


@contextlib.contextmanager
def nothing_written(directory: pathlib.Path) -> cabc.Iterator[None]:
    """Fail if the block leaves a file, such as a database or an ``instance``
    folder, in an example's ``directory``."""
    before = files_under(directory)
    yield
    assert files_under(directory) == before, f"the command wrote into {directory}"


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLES)
def test_help_lists_command(
    example: str, examples_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """``flask --app EXAMPLE --help`` loads the app and lists ``admin-sessions``,
    which the package's ``flask.commands`` entry point adds."""
    with nothing_written(examples_dir / example):
        result = cli_example.flask(
            "--app",
            str(examples_dir / example / "app.py"),
            "--help",
            database_url=cli_example.database_url(example, tmp_path),
            cwd=tmp_path,
        )

    assert (result.returncode, result.stderr) == (0, "")
    assert HELP_LINE in result.stdout.splitlines()


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLES)
def test_check_passes(
    example: str, examples_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """``admin-sessions --check`` exits 0 on each example, whose views all get a
    session per request; loading the app ran its factory, which seeded the
    database."""
    with nothing_written(examples_dir / example):
        result = cli_example.flask(
            "--app",
            str(examples_dir / example / "app.py"),
            "admin-sessions",
            "--check",
            database_url=cli_example.database_url(example, tmp_path),
            cwd=tmp_path,
        )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith("\n2 views, 0 with a problem.\n")
    assert list(tmp_path.glob("*.sqlite3"))


def test_docs_show_current_output(
    examples_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The output the docs include is what the command prints on the example now,
    plain text."""
    committed = cli_example.INCLUDE.read_text()

    with nothing_written(examples_dir / "sqla_lite"):
        current = cli_example.render(cli_example.run_example(tmp_path))

    assert "\x1b[" not in current
    assert current == committed, (
        f"{cli_example.INCLUDE.relative_to(cli_example.ROOT)} is out of date:"
        " rewrite it with 'python scripts/cli_example.py'"
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLES)
def test_readme_shows_current_probe(
    example: str, examples_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """Each example's README shows what ``admin-sessions --probe`` prints on it
    now: every view ``ok``."""
    committed = cli_example.readme(example).read_text()

    with nothing_written(examples_dir / example):
        output = cli_example.run_probe(example, tmp_path)

    assert output.endswith("\n2 views probed, 0 with a problem.\n")
    assert cli_example.with_probe(example, committed, output) == committed, (
        f"{cli_example.readme(example).relative_to(cli_example.ROOT)} is out of"
        " date: rewrite it with 'python scripts/cli_example.py'"
    )
