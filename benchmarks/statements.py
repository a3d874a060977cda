"""What the concurrent edit check costs: the statements each admin request sends
with the check on and off, a deterministic count, and the CPU time of a list
page of 50 rows with it on, off, and on Flask-Admin's own list template,
interleaved in one run and given as ratios.

From the repository root::

    python -m benchmarks.statements     # prints and writes results/statements.rst
"""

from __future__ import annotations

import pathlib
import statistics
import tempfile
import time
import typing as t

import sqlalchemy as sa

from tests.sqla.concurrent_edits import build_edits_app
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


LIST_ROUNDS = 150
"""Requests of each variant of the list page, interleaved."""

LIST_VARIANTS: dict[str, dict[str, t.Any]] = {
    "check on": {},
    "check off": {"concurrency_check": False},
    "check off, Flask-Admin's list template": {
        "concurrency_check": False,
        "list_template": "admin/model/list.html",
    },
}


def list_cpu(url: str) -> dict[str, float]:
    """Median CPU seconds of a 50-row list request, by :data:`LIST_VARIANTS`."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.delete(Person))
        conn.execute(
            sa.insert(Person), [{"name": f"p{i}", "score": i} for i in range(50)]
        )
    engine.dispose()
    setup = SOURCES["sessionmaker"](url)
    clients = {
        name: build_edits_app(
            setup, page_size=50, column_editable_list=[], **attributes
        ).test_client()
        for name, attributes in LIST_VARIANTS.items()
    }
    times: dict[str, list[float]] = {name: [] for name in clients}
    for round_ in range(LIST_ROUNDS + 5):
        for name, client in clients.items():
            started = time.process_time()
            assert client.get("/admin/person/").status_code == 200
            if round_ >= 5:
                times[name].append(time.process_time() - started)
    setup.dispose()
    return {name: statistics.median(values) for name, values in times.items()}


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


def render_cpu(cpu: dict[str, float]) -> str:
    """The list page's CPU times as a reStructuredText list table of ratios."""
    base = cpu["check off, Flask-Admin's list template"]
    lines = [
        f".. list-table:: CPU time of a 50-row list page, median of {LIST_ROUNDS}"
        " interleaved requests",
        "   :header-rows: 1",
        "",
        "   * - variant",
        "     - CPU ms / request",
        "     - x Flask-Admin's list template",
    ]
    for name, seconds in cpu.items():
        lines += [
            f"   * - {name}",
            f"     - {seconds * 1000:.2f}",
            f"     - {seconds / base:.3f}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure, print and write :data:`RESULT`."""
    with tempfile.TemporaryDirectory() as directory:
        counts = measure(pathlib.Path(directory))
        cpu = list_cpu(f"sqlite:///{pathlib.Path(directory) / 'statements.sqlite3'}")
    table = render(counts) + "\n" + render_cpu(cpu)
    RESULT.write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
