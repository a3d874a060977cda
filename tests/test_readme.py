"""The README's Python example runs as written, so it cannot rot."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap

from .optional import needs_lite

README = pathlib.Path(__file__).parent.parent / "README.rst"
"""The README at the repository root."""

DRIVER = """
import json
import sys

# What 'pip install "flask-admin-sqla-lite[lite]"' installs has no Flask-Babel,
# and Flask-Admin needs 'Babel(app)' only when it can import it.
sys.modules["flask_babel"] = None

import sqlalchemy as sa

import app as example

flask_app = example.create_app()
client = flask_app.test_client()
created = client.post("/admin/user/new/", data={"name": "Ada"})

with flask_app.app_context():
    names = example.db.session.scalars(sa.select(example.User.name)).all()

listed = client.get("/admin/user/")
json.dump(
    {
        "created": created.status_code,
        "names": names,
        "listed": listed.status_code,
        "shows_row": "Ada" in listed.get_data(as_text=True),
    },
    sys.stdout,
)
"""
"""Imports the README's code as ``app``, the way ``flask --app app run`` does,
creates a user through the admin and lists it; prints what happened as JSON."""


def python_blocks(text: str) -> list[str]:
    """Return the body of every ``.. code-block:: python`` in reStructuredText."""
    blocks: list[str] = []
    lines = text.splitlines()

    for number, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue

        indent = len(line) - len(line.lstrip())
        body: list[str] = []

        for following in lines[number + 1 :]:
            stripped = following.lstrip()

            if stripped and len(following) - len(stripped) <= indent:
                break

            body.append(following)

        blocks.append(textwrap.dedent("\n".join(body)).strip() + "\n")

    return blocks


def test_finds_the_example() -> None:
    """The README has a Python example defining ``create_app``."""
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks
    assert any("def create_app(" in block for block in blocks)


@needs_lite
def test_example_serves_the_admin(tmp_path: pathlib.Path) -> None:
    """The README's code, saved as ``app.py``, serves a working admin: a user
    created through it is written to the database and listed."""
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    (tmp_path / "app.py").write_text("\n\n".join(blocks), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", DRIVER],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "created": 302,
        "names": ["Ada"],
        "listed": 200,
        "shows_row": True,
    }
    assert (tmp_path / "instance" / "app.db").is_file()
