"""A pytest plugin that runs our tests against the patched Flask-Admin's base view.

In the patched tree ``flask_admin.contrib.sqla_lite.ModelView`` *is*
``flask_admin.contrib.sqla.ModelView``, so our tests, which import the former,
exercise the base view without any change. This plugin, loaded by ``run.py`` with
``-p pytest_retarget``, checks that this is so (and not the add-on from this
checkout), ignores the deprecation warning the base view keeps for session
objects, as Flask-Admin's own pytest configuration does, and expects the tests in
:data:`layout.INTENDED_DIFFERENCES` to fail (strict ``xfail``), with their reason.
"""

from __future__ import annotations

import pathlib

import flask_admin.contrib.sqla
import layout
import pytest

import flask_admin.contrib.sqla_lite


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run unless the imported view is the patched base view."""
    lite = flask_admin.contrib.sqla_lite

    if lite.ModelView is not flask_admin.contrib.sqla.ModelView:
        raise pytest.UsageError(
            f"{lite.__name__} comes from {pathlib.Path(lite.__file__).parent}, not"
            " from the patched Flask-Admin: install the patched tree first."
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ignore the session deprecation and mark the intended differences."""
    for item in items:
        item.add_marker(
            pytest.mark.filterwarnings(
                f"ignore:{layout.SESSION_DEPRECATION}:DeprecationWarning"
            )
        )
        reason = layout.INTENDED_DIFFERENCES.get(f"{item.path.name}::{item.name}")

        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
