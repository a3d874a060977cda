"""Flask-SQLAlchemy-Lite, which needs SQLAlchemy 2.0, when it is installed; and
the examples, which need both."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

try:
    import flask_sqlalchemy_lite as flask_sqlalchemy_lite
except ImportError:  # SQLAlchemy 1.4, or the "nolite" tox env
    flask_sqlalchemy_lite = None  # type: ignore[assignment]

HAS_LITE = flask_sqlalchemy_lite is not None
"""Whether Flask-SQLAlchemy-Lite is installed."""

LITE_MISSING = "Flask-SQLAlchemy-Lite is not installed (it needs SQLAlchemy 2.0)"
"""The one reason every test that needs Flask-SQLAlchemy-Lite is skipped for."""

needs_lite = pytest.mark.skipif(not HAS_LITE, reason=LITE_MISSING)
"""Skip a test, or one parametrisation, without Flask-SQLAlchemy-Lite."""


def lite_param(*values: object, id: str | None = None) -> object:
    """A parametrisation that needs Flask-SQLAlchemy-Lite."""
    return pytest.param(*values, id=id, marks=needs_lite)


EXAMPLES_NEED_2_0 = (
    "The examples are written for SQLAlchemy 2.0 (DeclarativeBase, Mapped)"
    " and Flask-SQLAlchemy-Lite"
)
"""The one reason every test that runs an example is skipped for on SQLAlchemy 1.4."""

needs_examples = pytest.mark.skipif(
    sa.__version__.startswith("1."), reason=EXAMPLES_NEED_2_0
)
"""Skip a test that runs an example on SQLAlchemy 1.4."""
