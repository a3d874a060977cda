"""Python bytecodes per request, ours against stock: exact, whatever the layout.

From the repository root::

    python -m benchmarks.bytecodes

Each page of :mod:`benchmarks.instructions` is requested three times per
variant after a warm-up, in one process, with :func:`sys.settrace` counting
every bytecode instruction the requesting thread executes
(``frame.f_trace_opcodes``). The count says how much Python work a request
does, whatever the memory layout, which moves callgrind's counts of the same
work by up to 2%. Frames of :mod:`threading`, :mod:`queue`,
:mod:`concurrent.futures`, :mod:`asyncio` and asgiref are not counted: the
stock and our Flask-SQLAlchemy-Lite apps hand their async teardown to another
thread and wait for it, for as many turns as the threads' timing takes. Five
pages then count the same in every run; the save varies by up to 0.1%, as
SQLAlchemy's flush orders sets of objects hashed by their addresses.

Prints the table of :func:`benchmarks.instructions.table` in thousands, and
last ``max ratio R over N pages``; exits 1 if R exceeds ``--bound``.
"""

from __future__ import annotations

import argparse
import collections.abc as cabc
import pathlib
import sys
import tempfile
import types
import typing as t

from . import database
from .instructions import MEASURED_PAGES
from .instructions import Setup
from .instructions import table
from .instructions import targets_line
from .instructions import worst_ratio
from .variants import BY_NAME
from .variants import COMPARED
from .variants import request_page

BOUND = 1.015
"""The CI gate's largest ratio: above every ratio measured when it was set
(1.0124, the callable on the ajax lookup), which 60 more bytecodes per request
on that page would exceed."""

WAITING = ("/threading.py", "/queue.py", "/concurrent/", "/asyncio/", "/asgiref/")
"""Where the requesting thread waits for another: not counted."""


def _counted(code: types.CodeType) -> bool:
    return not any(part in code.co_filename for part in WAITING)


def count_bytecodes(run: cabc.Callable[[], None]) -> int:
    """The bytecodes ``run`` executes in this thread, outside :data:`WAITING`."""
    executed = 0

    def trace(frame: types.FrameType, event: str, arg: object) -> t.Any:
        nonlocal executed
        if event == "call":
            if not _counted(frame.f_code):
                return None
            frame.f_trace_lines = False
            frame.f_trace_opcodes = True
        elif event == "opcode":
            executed += 1
        return trace

    sys.settrace(trace)
    try:
        run()
    finally:
        sys.settrace(None)
    return executed


def count_variant(variant: str, url: str, requests: int) -> dict[str, float]:
    """Bytecodes per request of each page with ``variant``."""
    bench = BY_NAME[variant].build(url)
    # No cookies: flashed messages would pile up in the session cookie.
    client = bench.app.test_client(use_cookies=False)
    counts = {}

    for page in MEASURED_PAGES:
        for _ in range(Setup.warm_up):
            request_page(client, page)

        def run(page: str = page) -> None:
            for _ in range(requests):
                request_page(client, page)

        counts[page] = count_bytecodes(run) / requests

    bench.dispose()
    return counts


def main(argv: cabc.Sequence[str] | None = None) -> int:
    """Count, print the table; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bytecodes")
    parser.add_argument("--requests", type=int, default=3, help="counted per page")
    parser.add_argument("--bound", type=float, default=BOUND)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    with tempfile.TemporaryDirectory() as directory:
        url = database.sqlite_url(pathlib.Path(directory))
        database.seed(url)
        counts = {v.name: count_variant(v.name, url, args.requests) for v in COMPARED}

    print(table(counts, unit=("k", 1e3)))
    worst = worst_ratio(counts)
    print(targets_line(counts))
    print(f"max ratio {worst:.4f} over {len(MEASURED_PAGES)} pages")
    return 0 if worst <= args.bound else 1


if __name__ == "__main__":
    sys.exit(main())
