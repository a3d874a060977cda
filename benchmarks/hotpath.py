"""Where our view spends its time in a request: the hot path, profiled.

Run as ``python -m benchmarks.hotpath [--variant fsa] [--page ajax]``: it
profiles requests of one page with :mod:`cProfile` and prints the time per
request spent in this package's functions, or the whole call tree with
``--pyinstrument``.
"""

from __future__ import annotations

import argparse
import collections.abc as cabc
import cProfile
import pathlib
import pstats
import tempfile

from . import database
from .variants import BY_NAME
from .variants import PAGES
from .variants import Variant

PACKAGE = str(pathlib.Path("flask_admin", "contrib", "sqla_lite"))
"""Functions defined under this path are ours."""

Key = tuple[str, int, str]


def _requests(
    variant: Variant, url: str, page: str, count: int
) -> cabc.Callable[[], None]:
    """A warmed-up function making ``count`` requests of ``page``."""
    client = variant.build(url).app.test_client()

    def run() -> None:
        for _ in range(count):
            client.get(PAGES[page])

    run()
    return run


def ours(variant: Variant, url: str, page: str, count: int) -> str:
    """Microseconds per request in each of our functions, with cProfile."""
    profile = cProfile.Profile()
    profile.runcall(_requests(variant, url, page, count))
    stats: dict[Key, tuple[int, int, float, float, object]] = pstats.Stats(  # type: ignore[attr-defined]
        profile
    ).stats
    total = sum(inner for _, _, inner, _, _ in stats.values()) / count
    lines = [
        f"{variant.name} {page}: {total * 1e6:.0f} µs per request under cProfile",
        f"{'calls':>6} {'own µs':>8} {'cum µs':>8} {'cum %':>6}  function",
    ]
    mine = sorted(
        ((key, value) for key, value in stats.items() if PACKAGE in key[0]),
        key=lambda item: -item[1][3],
    )

    for (filename, line, function), (_, calls, inner, cumulative, _) in mine:
        lines.append(
            f"{calls / count:6.1f} {inner / count * 1e6:8.2f}"
            f" {cumulative / count * 1e6:8.2f} {cumulative / count / total:6.2%}"
            f"  {pathlib.Path(filename).name}:{line} {function}"
        )

    return "\n".join(lines)


def tree(variant: Variant, url: str, page: str, count: int) -> str:
    """The call tree of ``count`` requests, from pyinstrument."""
    from pyinstrument import Profiler  # needed for this report only

    run = _requests(variant, url, page, count)
    profiler = Profiler(interval=0.0001)
    profiler.start()
    run()
    profiler.stop()
    text: str = profiler.output_text(color=False, show_all=False)
    return text


def main() -> None:
    """Profile one page of one or more variants."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hotpath")
    parser.add_argument("--variant", action="append", choices=BY_NAME)
    parser.add_argument("--page", choices=PAGES, default="ajax")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--pyinstrument", action="store_true", help="the call tree")
    args = parser.parse_args()
    report = tree if args.pyinstrument else ours

    with tempfile.TemporaryDirectory() as tmp:
        url = database.sqlite_url(pathlib.Path(tmp))
        database.seed(url)

        for name in args.variant or ["fsa"]:
            print(report(BY_NAME[name], url, args.page, args.requests), end="\n\n")


if __name__ == "__main__":
    main()
