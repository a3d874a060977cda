"""On PostgreSQL and MariaDB, a teardown of another extension that raises leaves
no transaction open and nothing checked out of the view's pool."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.server.harness import Admins
from tests.sqla import failing
from tests.sqla.sources import RELEASED_BY_VIEW
from tests.sqla.sources import SourceSetup

pytestmark = pytest.mark.server


def _get(client: FlaskClient, path: str) -> None:
    with pytest.raises(RuntimeError, match="teardown failed"):
        client.get(path)


@pytest.mark.filterwarnings(
    "ignore::flask_admin.contrib.sqla_lite.SharedSessionWarning"
)
@pytest.mark.parametrize("order", ("before", "after"))
@pytest.mark.parametrize("source_id", sorted(RELEASED_BY_VIEW))
def test_failing_teardown_leaks_nothing(
    admins: Admins, seeded: dict[str, int], source_id: str, order: str
) -> None:
    """Three times the pool's size of requests, each ending in a failing
    app-context teardown, leave 0 idle-in-transaction backends and a drained pool."""

    def build(url: str) -> SourceSetup:
        setup = RELEASED_BY_VIEW[source_id](url)
        return (
            failing.registered_before(setup, "appcontext")
            if order == "before"
            else setup
        )

    admin = admins.build(build, pool_timeout=0.5, record=False)

    if order == "after":
        failing.register(admin.app, "appcontext")

    client = admin.client()

    for _ in range(3):
        _get(client, "/admin/person/")
        _get(client, f"/admin/person/details/?id={seeded['alice']}")

    admin.assert_released()
