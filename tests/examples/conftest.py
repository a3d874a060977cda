"""Fixtures for the examples' tests: where they are, a SQLite file of the
test's own, and an example served by its one command."""

from __future__ import annotations

import collections.abc as cabc
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa

from ..optional import HAS_LITE
from ..optional import LITE_MISSING
from ..optional import needs_examples

_EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

_USE_LITE = ("sqla_lite", "test_docs_show_current_output")
"""Parts of the ids of the tests that run the Flask-SQLAlchemy-Lite example."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the examples' tests where their dependencies are not installed."""
    for item in items:
        if _EXAMPLES.parent / "tests" / "examples" not in item.path.parents:
            continue

        item.add_marker(needs_examples)

        if not HAS_LITE and any(part in item.nodeid for part in _USE_LITE):
            item.add_marker(pytest.mark.skip(reason=LITE_MISSING))


@pytest.fixture
def examples_dir() -> pathlib.Path:
    """The ``examples`` folder of this checkout."""
    return _EXAMPLES


@pytest.fixture
def sqlite_url(tmp_path: pathlib.Path) -> str:
    """The URL of a SQLite file of the test's own."""
    return f"sqlite:///{tmp_path / 'example.sqlite3'}"


@pytest.fixture
def database(sqlite_url: str) -> cabc.Iterator[sa.Engine]:
    """An engine of the test's own on the example's database, to check what the
    admin stored."""
    engine = sa.create_engine(sqlite_url)
    yield engine
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_serving(
    url: str, process: subprocess.Popen[bytes], log: pathlib.Path
) -> None:
    deadline = time.monotonic() + 30

    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (ConnectionError, urllib.error.URLError) as error:
            if isinstance(error, urllib.error.HTTPError):
                return

            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{url} did not answer:\n{log.read_text()}")

            time.sleep(0.2)


@pytest.fixture
def serve_example(
    tmp_path: pathlib.Path,
) -> cabc.Iterator[cabc.Callable[[pathlib.Path, str | None], str]]:
    """Run ``python SCRIPT`` with ``PORT`` set to a free port and
    ``DATABASE_URL`` to the given URL (``None``: unset), and return its base URL
    once it answers. The servers are terminated after the test."""
    processes: list[subprocess.Popen[bytes]] = []

    def serve(script: pathlib.Path, database_url: str | None) -> str:
        port = _free_port()
        env = {**os.environ, "PORT": str(port)}
        env.pop("DATABASE_URL", None)

        if database_url is not None:
            env["DATABASE_URL"] = database_url

        log = tmp_path / f"server-{port}.log"

        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, str(script)], env=env, stdout=output, stderr=output
            )

        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(url, process, log)
        return url

    yield serve

    for process in processes:
        process.terminate()
        process.wait(timeout=10)
