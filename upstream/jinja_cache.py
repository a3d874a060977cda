"""A pytest plugin of ``run.py``: every Flask app of the suite shares a Jinja
bytecode cache (``JINJA_CACHE_DIR``).

Flask-Admin's tests make a new app per test, so each test compiled the same
templates again: half the suite's CPU time. A cached template is reused only
while its source's checksum matches, so a PR that changes a template gets it
compiled afresh; the base and the PRs run with the same cache.
"""

from __future__ import annotations

import os

import flask
import jinja2
import pytest
from flask.templating import Environment


def pytest_configure(config: pytest.Config) -> None:
    os.makedirs(os.environ["JINJA_CACHE_DIR"], exist_ok=True)
    cache = jinja2.FileSystemBytecodeCache(os.environ["JINJA_CACHE_DIR"])
    create = flask.Flask.create_jinja_environment

    def create_jinja_environment(app: flask.Flask) -> Environment:
        environment = create(app)
        environment.bytecode_cache = cache
        return environment

    flask.Flask.create_jinja_environment = create_jinja_environment  # type: ignore[method-assign,assignment]
