"""Instructions per request, counted by valgrind's callgrind: ours against stock.

From the repository root::

    python -m benchmarks.instructions            # every page x every variant
    python -m benchmarks.instructions --quick    # the CI guard: extensions, callable

Each variant runs in a process of its own under ``valgrind --tool=callgrind``,
made repeatable: ``PYTHONHASHSEED=0``, no address-space randomisation
(``setarch -R``), a SQLite file at a fixed path, no cookies, and the garbage
collector collected then disabled around the measured requests. After a
warm-up, each page's requests are made from a ``ctypes`` callback: callgrind
counts only inside libffi's ``ffi_call`` (``--collect-atstart=no
--toggle-collect=ffi_call``) and dumps the count as it returns
(``--dump-after=ffi_call``), so each page's count holds its requests and
nothing else. The reference is counted twice, in two processes, as a check
that the counts repeat.

The exit status is 1 if the largest ratio of one of our views to its stock
baseline exceeds ``--bound``, or if the reference's two counts differ.
"""

from __future__ import annotations

import argparse
import collections.abc as cabc
import concurrent.futures
import ctypes
import dataclasses
import gc
import os
import pathlib
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import typing as t

from . import database
from .variants import BY_NAME
from .variants import COMPARED
from .variants import PAGES
from .variants import REFERENCE
from .variants import SAVE_FORM
from .variants import SAVE_PAGE
from .variants import STOCK_LITE

ROOT = pathlib.Path(__file__).parents[1]
WORK = pathlib.Path(tempfile.gettempdir(), "sqla-lite-instructions")
"""Each process's database and callgrind output, at a fixed path: the path's
length is part of what is counted."""

MEASURED_PAGES: tuple[str, ...] = (*PAGES, "save")
"""Every page of the overhead benchmark, and the edit form's POST."""

QUICK_VARIANTS = (REFERENCE.name, STOCK_LITE.name, "fsa", "lite", "callable")
"""The quick guard's variants: the extensions and the callable, with their
stock baselines."""

TARGETS: dict[str, float] = {"fsa": 1.001, "lite": 1.001, "callable": 1.001}
"""The ratio each of our variants aims for; a ``sessionmaker``, compared with
stock on Flask-SQLAlchemy, aims for :data:`SESSIONMAKER_TARGET`."""

SESSIONMAKER_TARGET = 1.005

REPEAT_TOLERANCE = 1e-5
"""The largest relative difference accepted between the reference's two
counts. The list, details, edit and ajax pages count the same to the
instruction; the export names its file, and the save signs its session cookie,
with the current time, whose digits move their counts by tens of
instructions."""

Counts: t.TypeAlias = dict[str, float]
"""Instructions per request by page."""


@dataclasses.dataclass(frozen=True)
class Setup:
    """What one process under callgrind counts."""

    variant: str
    pages: tuple[str, ...] = MEASURED_PAGES
    views: int = 2
    """The views registered: the person view, then team views."""

    page_size: int = 50
    warm_up: int = 3
    requests: int = 3
    """Requests counted per page."""

    def arguments(self) -> list[str]:
        """The child's command line."""
        return [
            self.variant,
            ",".join(self.pages),
            *(str(n) for n in (self.views, self.page_size, self.warm_up)),
            str(self.requests),
        ]

    @classmethod
    def parse(cls, arguments: cabc.Sequence[str]) -> Setup:
        """The inverse of :meth:`arguments`."""
        variant, pages, views, page_size, warm_up, requests = arguments
        return cls(
            variant,
            tuple(pages.split(",")),
            int(views),
            int(page_size),
            int(warm_up),
            int(requests),
        )


def _request(client: t.Any, page: str) -> None:
    if page == "save":
        response = client.post(SAVE_PAGE, data=SAVE_FORM)
        expected = 302
    else:
        response = client.get(PAGES[page])
        expected = 200

    response.close()

    if response.status_code != expected:
        raise RuntimeError(f"{page}: {response.status}, expected {expected}")


def child(setup: Setup, url: str) -> None:
    """Count each page's requests from a ``ctypes`` callback; print the pages
    in the order callgrind dumps them."""
    bench = BY_NAME[setup.variant].build(url, setup.views)
    bench.person_view.page_size = setup.page_size
    # No cookies: flashed messages would pile up in the session cookie.
    client = bench.app.test_client(use_cookies=False)
    page = ""

    def measured() -> None:
        for _ in range(setup.requests):
            _request(client, page)

    callback = ctypes.CFUNCTYPE(None)(measured)

    for page in setup.pages:
        for _ in range(setup.warm_up):
            _request(client, page)

        gc.collect()
        gc.disable()
        callback()
        gc.enable()
        print(page, flush=True)

    bench.dispose()


def _total(dump: pathlib.Path) -> int:
    match = re.search(r"^totals: (\d+)", dump.read_text(), re.MULTILINE)

    if match is None:
        raise RuntimeError(f"{dump} has no totals line.")

    return int(match[1])


def count(setup: Setup, run: str) -> Counts:
    """Instructions per request of each page, from one process under callgrind.

    :param run: Names the process's directory under :data:`WORK`.
    """
    directory = WORK / run
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    url = database.sqlite_url(directory)
    database.seed(url)
    prefix = directory / "callgrind.out"
    command = [
        *("setarch", platform.machine(), "-R"),
        *("valgrind", "--tool=callgrind", "--collect-atstart=no"),
        *("--toggle-collect=ffi_call", "--dump-after=ffi_call"),
        f"--callgrind-out-file={prefix}",
        *(sys.executable, "-m", "benchmarks.instructions", "--child", url),
        *setup.arguments(),
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
    )

    if result.returncode != 0:
        raise RuntimeError(f"{setup} failed under callgrind:\n{result.stderr}")

    pages = result.stdout.split()
    totals = [_total(pathlib.Path(f"{prefix}.{n}")) for n in range(1, len(pages) + 1)]
    shutil.rmtree(directory)
    return {
        page: total / setup.requests for page, total in zip(pages, totals, strict=True)
    }


def count_all(setups: cabc.Sequence[Setup], jobs: int, name: str) -> list[Counts]:
    """:func:`count` each setup, ``jobs`` processes at a time.

    :param name: Names the runs' directories, ``<name>-000`` and on.
    """
    runs = [f"{name}-{number:03d}" for number in range(len(setups))]

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(count, setups, runs))


def ratio(counts: dict[str, Counts], variant: str, page: str) -> float:
    """Our variant's count over its stock baseline's."""
    baseline = t.cast(str, BY_NAME[variant].baseline)
    return counts[variant][page] / counts[baseline][page]


def target(variant: str) -> float:
    """The ratio ``variant`` aims for."""
    return TARGETS.get(variant, SESSIONMAKER_TARGET)


def table(counts: dict[str, Counts]) -> str:
    """Millions of instructions per request, and each of our variants' ratio to
    its baseline, marked ``*`` where over its target."""
    ours = [v for v in counts if BY_NAME[v].baseline is not None]
    lines = [
        [
            "page",
            *(f"{v} (M)" for v in counts),
            *(f"{v}/{BY_NAME[v].baseline}" for v in ours),
        ]
    ]

    for page in MEASURED_PAGES:
        lines.append(
            [
                page,
                *(f"{by_page[page] / 1e6:.3f}" for by_page in counts.values()),
                *(
                    f"{ratio(counts, v, page):.4f}"
                    + ("*" if ratio(counts, v, page) > target(v) else " ")
                    for v in ours
                ),
            ]
        )

    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    )


def main(argv: cabc.Sequence[str] | None = None) -> int:
    """Count, print the table; return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)

    if arguments[:1] == ["--child"]:
        child(Setup.parse(arguments[2:]), arguments[1])
        return 0

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.instructions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="the CI guard")
    parser.add_argument("--variant", action="append", choices=BY_NAME)
    parser.add_argument("--requests", type=int, default=3, help="counted per page")
    parser.add_argument("--bound", type=float, default=1.01)
    parser.add_argument("--jobs", type=int, default=2, help="processes at once")
    args = parser.parse_args(arguments)
    chosen = args.variant or (
        QUICK_VARIANTS if args.quick else [v.name for v in COMPARED]
    )
    baselines = [BY_NAME[v].baseline or v for v in chosen]
    variants = list(dict.fromkeys([REFERENCE.name, *baselines, *chosen]))
    start = time.perf_counter()
    setups = [Setup(v, requests=args.requests) for v in [*variants, REFERENCE.name]]
    *results, repeat = count_all(setups, args.jobs, "pages")
    counts = dict(zip(variants, results, strict=True))
    print(table(counts))
    targets = ", ".join(f"{v} {target(v)}" for v in variants if BY_NAME[v].baseline)
    print(f"* over the target ({targets})")
    drifts = {p: repeat[p] - counts[REFERENCE.name][p] for p in repeat}
    repeated = all(
        abs(drift) <= REPEAT_TOLERANCE * repeat[p] for p, drift in drifts.items()
    )
    print(
        f"{REFERENCE.name} counted twice, instructions per request second minus"
        f" first: {', '.join(f'{p} {d:+.0f}' for p, d in drifts.items())}"
        f" (tolerance {REPEAT_TOLERANCE:.0e}): {'ok' if repeated else 'FAIL'}"
    )
    worst = max(
        (
            ratio(counts, v, page)
            for v in variants
            if BY_NAME[v].baseline is not None
            for page in MEASURED_PAGES
        ),
        default=0.0,
    )
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"{time.perf_counter() - start:.0f} s, {usage.ru_utime + usage.ru_stime:.0f} s"
        f" CPU, {args.requests} requests per page"
    )
    print(f"max ratio {worst:.4f} over {len(MEASURED_PAGES)} pages")
    return 0 if repeated and worst <= args.bound else 1


if __name__ == "__main__":
    sys.exit(main())
