"""Instructions per request, counted by valgrind's callgrind: ours against stock.

From the repository root::

    python -m benchmarks.instructions            # every page x every variant
    python -m benchmarks.instructions --quick    # the CI guard: extensions, callable

Each variant runs in a process of its own under ``valgrind --tool=callgrind``.
After a warm-up, each page's requests are made from a ``ctypes`` callback:
callgrind counts only inside libffi's ``ffi_call`` (``--collect-atstart=no
--toggle-collect=ffi_call``) and dumps the count as it returns
(``--dump-after=ffi_call``), so each page's count holds its requests and
nothing else. The garbage collector is collected, then disabled, around them.

The counts repeat only if the process allocates exactly the same before the
measured requests: CPython's type attribute cache is indexed by the address of
the attribute's name, so a path one character longer, one more environment
variable or a module compiled instead of read from its bytecode moves the
interned names and changes which lookups miss the cache, by up to 1% of a
page's instructions. So each process runs in a mount namespace of its own
(``unshare --mount``) that shows it a fresh directory of its own and the
checkout at fixed paths (:data:`WORK`, :data:`MOUNT`), from the virtual
environment's base interpreter with ``-S`` (no ``pyvenv.cfg``, no ``.pth``
file, which name the checkout's real path), with an environment of its own
(``PYTHONHASHSEED=0``), no address-space randomisation (``setarch -R``), and
bytecode compiled by a native run of the same process just before. The
reference is counted twice, in two processes, as a check that the counts
repeat.

Sealed, a process still has one layout of its own: its count moves by up to
1% when anything it allocated before the requests changes. So each variant is
counted under several layouts, set by the length of one environment variable
(:data:`LAYOUTS`), and its count per page is the median of them.

The exit status is 1 if the largest ratio of one of our views to its stock
baseline exceeds ``--bound``, or if the reference's two counts differ.
"""

from __future__ import annotations

import argparse
import collections.abc as cabc
import concurrent.futures
import dataclasses
import os
import pathlib
import platform
import re
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import typing as t

from . import database
from .variants import BY_NAME
from .variants import COMPARED
from .variants import PAGES
from .variants import REFERENCE
from .variants import STOCK_LITE

ROOT = pathlib.Path(__file__).parents[1]
WORK = pathlib.Path("/tmp/sqla-lite-instructions")
"""Where each process sees a directory of its own, which holds its database,
bytecode and callgrind output."""

MOUNT = WORK / "checkout"
"""Where each process sees the checkout."""


def _seen_from_mount(path: str) -> pathlib.Path:
    return MOUNT / pathlib.Path(path).relative_to(ROOT)


LAYOUTS: tuple[int, ...] = (1, 64, 300)
"""Lengths of ``SQLA_LITE_LAYOUT``, which the process copies into ``os.environ``
before importing anything: each moves what it allocates later. 1 and 8 gave the
same counts; 1, 64 and 300 gave three layouts."""


def _environment(layout: int) -> list[str]:
    """Each process's whole environment. The process runs the virtual
    environment's base interpreter with ``-S`` and takes the checkout's
    site-packages from ``PYTHONPATH``: no ``pyvenv.cfg`` and no ``.pth`` file,
    which name the checkout's real path. Bytecode is written to a directory of the
    process's own, compiled from the sources at :data:`MOUNT`. ``layout`` is the
    length of ``SQLA_LITE_LAYOUT`` (:data:`LAYOUTS`)."""
    return [
        f"SQLA_LITE_LAYOUT={'x' * layout}",
        "PYTHONHASHSEED=0",
        "LC_ALL=C.UTF-8",
        f"PATH={os.defpath}",
        f"PYTHONPATH={_seen_from_mount(sysconfig.get_path('purelib'))}",
        f"PYTHONPYCACHEPREFIX={WORK / 'bytecode'}",
    ]


MEASURED_PAGES: tuple[str, ...] = (*PAGES, "save")
"""Every page of the overhead benchmark, and the edit form's POST."""

QUICK_VARIANTS = (REFERENCE.name, STOCK_LITE.name, "fsa", "lite", "callable")
"""The quick guard's variants: the extensions and the callable, with their
stock baselines."""

TARGETS: dict[str, float] = {"fsa": 1.001, "lite": 1.001, "callable": 1.001}
"""The ratio each of our variants aims for; a ``sessionmaker``, compared with
stock on Flask-SQLAlchemy, aims for :data:`SESSIONMAKER_TARGET`."""

SESSIONMAKER_TARGET = 1.005

REPEAT_TOLERANCE = 1e-3
"""The largest relative difference accepted between the reference's two
counts. The list, details, edit, ajax and export pages count the same to the
instruction; the save, whose signed session cookie holds the current time,
differed by 0.03% in two processes started together from two checkouts."""

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

    layout: int = LAYOUTS[0]
    """The length of ``SQLA_LITE_LAYOUT`` in the process's environment."""

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


def _total(dump: pathlib.Path) -> int:
    match = re.search(r"^totals: (\d+)", dump.read_text(), re.MULTILINE)

    if match is None:
        raise RuntimeError(f"{dump} has no totals line.")

    return int(match[1])


MOUNT_AND_RUN = (
    'mount --bind "$0" "$1" && mount --bind "$2" "$1/checkout" && shift 2 && exec "$@"'
)


def _in_private(
    directory: pathlib.Path, layout: int, command: cabc.Sequence[str | pathlib.Path]
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a mount namespace of its own where ``directory`` is
    :data:`WORK` and the checkout :data:`MOUNT`, from :data:`MOUNT`, in
    :func:`_environment` with ``layout``; raise if it fails."""
    result = subprocess.run(
        [
            *("unshare", "--mount", "sh", "-c", MOUNT_AND_RUN, directory, WORK, ROOT),
            *("env", "-i", "-C", MOUNT, *_environment(layout), *command),
        ],
        capture_output=True,
        text=True,
    )

    if result.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{result.stderr}")

    return result


def count(setup: Setup) -> Counts:
    """Instructions per request of each page, from one process under callgrind,
    in a directory of its own."""
    WORK.mkdir(exist_ok=True)
    counted: list[str | pathlib.Path] = [
        getattr(sys, "_base_executable", sys.executable),
        "-S",
        *("-m", "benchmarks.counted", database.sqlite_url(WORK)),
        *setup.arguments(),
    ]

    with tempfile.TemporaryDirectory() as name:
        directory = pathlib.Path(name)
        (directory / "checkout").mkdir()
        # Natively first: what it imports is compiled before the counted run.
        database.seed(database.sqlite_url(directory))
        _in_private(directory, setup.layout, counted)
        database.seed(database.sqlite_url(directory))
        result = _in_private(
            directory,
            setup.layout,
            [
                *("setarch", platform.machine(), "-R"),
                *("valgrind", "--tool=callgrind", "--collect-atstart=no"),
                *("--toggle-collect=ffi_call", "--dump-after=ffi_call"),
                f"--callgrind-out-file={WORK / 'callgrind.out'}",
                *counted,
            ],
        )
        pages = result.stdout.split()
        totals = [
            _total(directory / f"callgrind.out.{n}") for n in range(1, len(pages) + 1)
        ]

    return {
        page: total / setup.requests for page, total in zip(pages, totals, strict=True)
    }


def count_all(setups: cabc.Sequence[Setup], jobs: int) -> list[Counts]:
    """:func:`count` each setup, ``jobs`` processes at a time."""
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(count, setups))


def median_counts(runs: cabc.Sequence[Counts]) -> Counts:
    """Each page's median over ``runs``, one per layout."""
    return {page: statistics.median(run[page] for run in runs) for page in runs[0]}


def ratio(counts: dict[str, Counts], variant: str, page: str) -> float:
    """Our variant's count over its stock baseline's."""
    baseline = t.cast(str, BY_NAME[variant].baseline)
    return counts[variant][page] / counts[baseline][page]


def target(variant: str) -> float:
    """The ratio ``variant`` aims for."""
    return TARGETS.get(variant, SESSIONMAKER_TARGET)


def worst_ratio(counts: dict[str, Counts]) -> float:
    """The largest ratio of one of our variants in ``counts`` to its baseline."""
    return max(
        (
            ratio(counts, v, page)
            for v in counts
            if BY_NAME[v].baseline is not None
            for page in MEASURED_PAGES
        ),
        default=0.0,
    )


def targets_line(variants: cabc.Iterable[str]) -> str:
    """The table's footnote: each of our ``variants`` with its target."""
    targets = ", ".join(f"{v} {target(v)}" for v in variants if BY_NAME[v].baseline)
    return f"* over the target ({targets})"


def table(counts: dict[str, Counts], unit: tuple[str, float] = ("M", 1e6)) -> str:
    """Instructions per request in ``unit`` (a name and its size: millions by
    default), and each of our variants' ratio to its baseline, marked ``*``
    where over its target."""
    name, size = unit
    ours = [v for v in counts if BY_NAME[v].baseline is not None]
    lines = [
        [
            "page",
            *(f"{v} ({name})" for v in counts),
            *(f"{v}/{BY_NAME[v].baseline}" for v in ours),
        ]
    ]

    for page in MEASURED_PAGES:
        lines.append(
            [
                page,
                *(f"{by_page[page] / size:.3f}" for by_page in counts.values()),
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
    parser.add_argument(
        "--layouts",
        type=lambda text: [int(n) for n in text.split(",")],
        default=list(LAYOUTS),
        help="comma-separated lengths of SQLA_LITE_LAYOUT (default: %(default)s)",
    )
    args = parser.parse_args(arguments)
    chosen = args.variant or (
        QUICK_VARIANTS if args.quick else [v.name for v in COMPARED]
    )
    baselines = [BY_NAME[v].baseline or v for v in chosen]
    variants = list(dict.fromkeys([REFERENCE.name, *baselines, *chosen]))
    start = time.perf_counter()
    layouts: list[int] = args.layouts
    setups = [
        Setup(v, requests=args.requests, layout=n) for v in variants for n in layouts
    ]
    setups.append(Setup(REFERENCE.name, requests=args.requests, layout=layouts[0]))
    *results, repeat = count_all(setups, args.jobs)
    runs = {
        v: results[i * len(layouts) : (i + 1) * len(layouts)]
        for i, v in enumerate(variants)
    }
    counts = {v: median_counts(runs[v]) for v in variants}
    print(table(counts))
    print(targets_line(variants))
    single = [
        ratio({v: by_layout[i] for v, by_layout in runs.items()}, v, page)
        for i in range(len(layouts))
        for v in variants
        if BY_NAME[v].baseline is not None
        for page in MEASURED_PAGES
    ]
    print(
        f"medians over the layouts {layouts}; at one layout the ratios range from"
        f" {min(single):.4f} to {max(single):.4f}"
    )
    drifts = {p: repeat[p] - runs[REFERENCE.name][0][p] for p in repeat}
    repeated = all(
        abs(drift) <= REPEAT_TOLERANCE * repeat[p] for p, drift in drifts.items()
    )
    print(
        f"{REFERENCE.name} counted twice, instructions per request second minus"
        f" first: {', '.join(f'{p} {d:+.0f}' for p, d in drifts.items())}"
        f" (tolerance {REPEAT_TOLERANCE:.0e}): {'ok' if repeated else 'FAIL'}"
    )
    worst = worst_ratio(counts)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"{time.perf_counter() - start:.0f} s, {usage.ru_utime + usage.ru_stime:.0f} s"
        f" CPU, {args.requests} requests per page"
    )
    print(f"max ratio {worst:.4f} over {len(MEASURED_PAGES)} pages")
    return 0 if repeated and worst <= args.bound else 1


if __name__ == "__main__":
    sys.exit(main())
