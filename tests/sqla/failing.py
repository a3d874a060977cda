"""A teardown function that raises, as a broken extension's does, registered
before or after the admin."""

from __future__ import annotations

import dataclasses

from flask import Flask

from .sources import SourceSetup

MESSAGE = "Another extension's teardown failed."


def failing_teardown(exc: BaseException | None) -> None:
    """Raise, as Flask-SQLAlchemy-Lite's async teardown does under gevent."""
    raise RuntimeError(MESSAGE)


def register(app: Flask, phase: str) -> None:
    """Register :func:`failing_teardown` for ``"appcontext"`` or ``"request"``."""
    if phase == "appcontext":
        app.teardown_appcontext(failing_teardown)
    else:
        app.teardown_request(failing_teardown)


def registered_before(setup: SourceSetup, phase: str) -> SourceSetup:
    """``setup`` whose app gets :func:`failing_teardown` before the admin."""

    def init_app(app: Flask) -> None:
        setup.init_app(app)
        register(app, phase)

    return dataclasses.replace(setup, init_app=init_app)
