"""Pool checkouts per request, counted with pool events."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses

import sqlalchemy as sa

from .variants import NO_DATABASE_PAGE
from .variants import PAGES
from .variants import Variant

CONNECTION_PAGES: dict[str, str] = {**PAGES, "index": NO_DATABASE_PAGE}
"""The database pages, and the admin index that touches no database."""


@dataclasses.dataclass(frozen=True)
class PoolCount:
    """What some requests of one page did to the pool."""

    requests: int
    checkouts: int
    checkins: int
    left_out: int
    """Connections still checked out after the last request."""

    def expected(self, touches_database: bool) -> bool:
        """One checkout and one checkin per request if the page reads the
        database, none otherwise, and nothing left checked out."""
        per_request = self.requests if touches_database else 0
        return self.checkouts == self.checkins == per_request and not self.left_out


def count(variant: Variant, url: str, page: str, requests: int) -> PoolCount:
    """Make ``requests`` requests of ``page`` on a fresh app and count."""
    bench = variant.build(url)
    events = {"checkout": 0, "checkin": 0}

    def counter(name: str) -> cabc.Callable[..., None]:
        def listener(*args: object) -> None:
            events[name] += 1

        return listener

    listeners = [(name, counter(name)) for name in events]

    for name, listener in listeners:
        sa.event.listen(bench.engine, name, listener)

    try:
        client = bench.app.test_client()

        for _ in range(requests):
            response = client.get(page)
            # A streamed page (the export) ends its request as it is closed.
            response.close()

            if response.status_code != 200:
                raise RuntimeError(f"{variant.name} {page}: {response.status}")

        # Read before anything collects garbage: a collected connection is
        # silently returned to the pool.
        left_out = bench.engine.pool.checkedout()  # type: ignore[attr-defined]
    finally:
        for name, listener in listeners:
            sa.event.remove(bench.engine, name, listener)

        bench.dispose()

    return PoolCount(requests, events["checkout"], events["checkin"], left_out)


def measure(
    variants: cabc.Sequence[Variant], url: str, requests: int
) -> dict[str, dict[str, PoolCount]]:
    """Pool counts by variant name, then page name."""
    return {
        variant.name: {
            page: count(variant, url, path, requests)
            for page, path in CONNECTION_PAGES.items()
        }
        for variant in variants
    }
