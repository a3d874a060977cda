"""How the list page's cost grows with the admin, ours against stock.

From the repository root::

    python -m benchmarks.growth

Counts the list page's instructions per request (as
:mod:`benchmarks.instructions` does) with 1, 10, 100 and 1,000 registered
views and 20, 50 and 200 rows per page, for stock Flask-Admin and our view on
a Flask-SQLAlchemy ``db``, prints the table and draws the plot for the
Performance page. Then times building and registering 1,000 views, and the
memory they hold (:mod:`tracemalloc`), each in a fresh process.
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import tempfile
import time
import tracemalloc

from . import database
from .instructions import count_all
from .instructions import ROOT
from .instructions import Setup
from .variants import BY_NAME
from .variants import REFERENCE

VIEWS = (1, 10, 100, 1_000)
ROWS = (20, 50, 200)
DEFAULT_VIEWS = 2
DEFAULT_ROWS = 50
VARIANTS = (REFERENCE.name, "fsa")
BUILT = 1_000
"""The views built and registered for the build cost."""

PLOT = ROOT / "doc" / "_static" / "benchmarks" / "growth.png"

Point = tuple[int, int]
"""Registered views and rows per page."""

POINTS: tuple[Point, ...] = (
    *((views, DEFAULT_ROWS) for views in VIEWS),
    *((DEFAULT_VIEWS, rows) for rows in ROWS),
)


def list_counts(jobs: int) -> dict[str, dict[Point, float]]:
    """The list page's instructions per request at every point, by variant."""
    setups = [
        Setup(variant, ("list",), views, rows)
        for variant in VARIANTS
        for views, rows in POINTS
    ]
    counts = iter(count_all(setups, jobs))
    return {
        variant: {point: next(counts)["list"] for point in POINTS}
        for variant in VARIANTS
    }


def table(counts: dict[str, dict[Point, float]]) -> str:
    """Millions of instructions per request, and ours minus stock."""
    stock, ours = (counts[v] for v in VARIANTS)
    lines = [
        f"{'views':>6} {'rows':>5} {'stock (M)':>10} {'ours (M)':>10} ours - stock"
    ]
    lines.extend(
        f"{point[0]:6d} {point[1]:5d} {stock[point] / 1e6:10.3f}"
        f" {ours[point] / 1e6:10.3f} {ours[point] - stock[point]:12,.0f}"
        for point in POINTS
    )
    return "\n".join(lines)


def build(variant: str, url: str) -> str:
    """Build and register :data:`BUILT` views; say the CPU time and the memory
    they hold."""
    tracemalloc.start()
    cpu = time.process_time()
    bench = BY_NAME[variant].build(url, BUILT)
    cpu = time.process_time() - cpu
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    bench.dispose()
    return f"{cpu:.3f} {held}"


def build_costs(url: str) -> dict[str, tuple[float, int]]:
    """CPU seconds and bytes held to build :data:`BUILT` views, each variant in
    a fresh process."""
    costs = {}

    for variant in VARIANTS:
        output = subprocess.run(
            [sys.executable, "-m", "benchmarks.growth", "--build", variant, url],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        costs[variant] = (float(output[0]), int(output[1]))

    return costs


def main() -> None:
    """Count, print and plot."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.growth")
    parser.add_argument("--build", nargs=2, metavar=("VARIANT", "URL"))
    parser.add_argument("--jobs", type=int, default=2, help="processes at once")
    parser.add_argument("--plot", type=pathlib.Path, default=PLOT)
    args = parser.parse_args()

    if args.build:
        print(build(*args.build))
        return

    counts = list_counts(args.jobs)
    print(table(counts))
    from . import plots  # matplotlib is needed for the plot only

    plots.growth(counts, DEFAULT_VIEWS, DEFAULT_ROWS, args.plot)

    with tempfile.TemporaryDirectory() as tmp:
        url = database.sqlite_url(pathlib.Path(tmp))
        database.seed(url)

        for variant, (cpu, held) in build_costs(url).items():
            print(
                f"{variant}: {BUILT} views built and registered in {cpu:.2f} s CPU,"
                f" holding {held / 2**20:.1f} MiB"
            )


if __name__ == "__main__":
    main()
