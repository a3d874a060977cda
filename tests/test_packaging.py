"""The built wheel installs next to Flask-Admin from PyPI, as
``flask_admin.contrib.sqla_lite``, works there, and leaves Flask-Admin's own
files alone when it is uninstalled."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import venv
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.packaging

ENV = {
    **{
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "PYTHON", "VIRTUAL_ENV"))
    },
    "DATABASE_URL": "sqlite:///app.sqlite3",
}
"""The environment of every command: none of this test run's Python or Flask
settings, and the database of the app below."""

APP = """\
import os
import pathlib

from flask import Flask
from flask_admin import Admin
from flask_sqlalchemy_lite import SQLAlchemy
from sqlalchemy import orm

import flask_admin.contrib.sqla as stock
import flask_admin.contrib.sqla_lite as ours
from flask_admin.contrib.sqla_lite import ModelView


class Base(orm.DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str]


db = SQLAlchemy()
admin = Admin()
admin.add_view(ModelView(User, db))  # no app context, as at import time


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_ENGINES"] = {"default": os.environ["DATABASE_URL"]}
    db.init_app(app)
    admin.init_app(app)

    with app.app_context():
        Base.metadata.create_all(db.engine)

    return app


if __name__ == "__main__":
    print(pathlib.Path(ours.__file__).parent)
    print(pathlib.Path(stock.__file__).parent)
    print(create_app().test_client().get("/admin/user/").status_code)
"""
"""An app on the installed wheel: prints where our package and Flask-Admin's
``contrib.sqla`` were imported from, and the status of the admin's list page."""


def run(*command: str | pathlib.Path, cwd: pathlib.Path | None = None) -> str:
    """Run a command; fail the test with its output if it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=ENV,
    )

    if result.returncode:
        pytest.fail(f"{command} failed:\n{result.stdout}\n{result.stderr}")

    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The wheel built from this checkout."""
    # setuptools builds in the source tree: build a copy, leave the checkout clean.
    source = tmp_path_factory.mktemp("source")

    for name in ("pyproject.toml", "README.rst", "LICENSE.txt"):
        shutil.copy(ROOT / name, source)

    shutil.copytree(
        ROOT / "flask_admin",
        source / "flask_admin",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, source)
    (built,) = out.glob("flask_admin_sqla_lite-*.whl")
    return built


def test_wheel_holds_only_the_add_on(wheel: pathlib.Path) -> None:
    """The wheel ships our subpackage with its ``py.typed`` marker, and no file
    of Flask-Admin's, not even ``flask_admin/__init__.py``."""
    names = zipfile.ZipFile(wheel).namelist()
    package = [name for name in names if ".dist-info/" not in name]
    assert package, names
    assert all(name.startswith("flask_admin/contrib/sqla_lite/") for name in package)
    assert "flask_admin/contrib/sqla_lite/py.typed" in package
    assert "flask_admin/contrib/sqla_lite/__init__.py" in package


def test_installs_beside_flask_admin_and_uninstalls_cleanly(
    wheel: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """Installed into a new environment with Flask-Admin from PyPI, the package
    lands in Flask-Admin's ``contrib`` folder, serves a view built at import time
    on Flask-SQLAlchemy-Lite, adds ``flask admin-sessions``; uninstalled, it
    leaves Flask-Admin importable."""
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", f"{wheel}[lite]")
    (tmp_path / "app.py").write_text(APP)

    ours, stock, status = run(python, "app.py", cwd=tmp_path).split()
    assert pathlib.Path(ours).parent == pathlib.Path(stock).parent
    assert pathlib.Path(ours).is_relative_to(tmp_path / "venv")
    assert status == "200"

    help_text = run(python, "-m", "flask", "--app", "app", "--help", cwd=tmp_path)
    assert "admin-sessions" in help_text
    table = run(python, "-m", "flask", "--app", "app", "admin-sessions", cwd=tmp_path)
    assert "1 view, 0 with a problem" in table

    run(python, "-m", "pip", "uninstall", "--quiet", "--yes", "flask-admin-sqla-lite")
    assert not pathlib.Path(ours).exists()
    run(python, "-c", "import flask_admin.contrib.sqla", cwd=tmp_path)
