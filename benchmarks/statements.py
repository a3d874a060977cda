"""Statements each admin request sends, with the concurrent edit check on and
off: a deterministic count, so a single run is the measurement.

From the repository root::

    python -m benchmarks.statements     # prints and writes results/statements.rst
"""

from __future__ import annotations

import pathlib
import tempfile

import sqlalchemy as sa

from tests.sqla.concurrent_edits import count_statements
from tests.sqla.concurrent_edits import seed_edits
from tests.sqla.models import Base
from tests.sqla.models import Person
from tests.sqla.sources import SOURCES

RESULT = pathlib.Path(__file__).parent / "results" / "statements.rst"


def measure(directory: pathlib.Path) -> dict[bool, dict[str, int]]:
    """Count each request's statements on a fresh SQLite file, check off then on."""
    url = f"sqlite:///{directory / 'statements.sqlite3'}"
    counts = {}
    for checked in (False, True):
        engine = sa.create_engine(url)
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        seed_edits(engine)
        with engine.begin() as conn:
            conn.execute(sa.insert(Person).values(id=1, name="bob", score=3))
        engine.dispose()
        setup = SOURCES["sessionmaker"](url)
        counts[checked] = count_statements(setup, 1, checked)
        setup.dispose()
    return counts


def render(counts: dict[bool, dict[str, int]]) -> str:
    """The counts as a reStructuredText list table."""
    lines = [
        ".. list-table:: Statements per request,"
        " ``ModelView(Person, sessionmaker(engine))``",
        "   :header-rows: 1",
        "",
        "   * - request",
        "     - ``concurrency_check = False``",
        "     - ``concurrency_check = True``",
        "     - extra",
    ]
    for page, off in counts[False].items():
        on = counts[True][page]
        lines += [
            f"   * - {page}",
            f"     - {off}",
            f"     - {on}",
            f"     - {on - off}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure, print and write :data:`RESULT`."""
    with tempfile.TemporaryDirectory() as directory:
        table = render(measure(pathlib.Path(directory)))
    RESULT.write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
