"""Many requests in a row, sampling memory, live sessions and the pool.

Each variant soaks in a process of its own, so its memory is its own: run as
``python -m benchmarks.soak VARIANT DATABASE_URL REQUESTS EVERY``, it prints one
JSON sample per line. The requests cycle through the measured pages.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import gc
import itertools
import json
import logging
import os
import pathlib
import subprocess
import sys

from sqlalchemy import orm

from .variants import BY_NAME
from .variants import PAGES

ROOT = pathlib.Path(__file__).parents[1]


@dataclasses.dataclass(frozen=True)
class Sample:
    """The state of a soaking process after some requests."""

    requests: int
    rss_mib: float
    """Resident memory of the process."""

    sessions: int
    """``Session`` objects still reachable after a garbage collection."""

    checked_out: int
    """Connections checked out of the view's pool, read before collecting."""

    errors: int
    """Responses so far that were not ``200 OK``."""


def _rss_mib() -> float:
    """The resident memory of this process, from ``/proc`` (Linux)."""
    pages = int(pathlib.Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak(variant: str, url: str, requests: int, every: int) -> cabc.Iterator[Sample]:
    """Make ``requests`` requests on a fresh app, sampling every ``every``."""
    # The workaround fails every request once its pool is exhausted; the app
    # would log each traceback.
    logging.disable(logging.ERROR)
    bench = BY_NAME[variant].build(url)
    client = bench.app.test_client()
    paths = itertools.cycle(PAGES.values())
    errors = 0

    def sample(done: int) -> Sample:
        checked_out = bench.engine.pool.checkedout()  # type: ignore[attr-defined]
        gc.collect()
        sessions = sum(isinstance(o, orm.Session) for o in gc.get_objects())
        return Sample(done, _rss_mib(), sessions, checked_out, errors)

    try:
        yield sample(0)

        for done in range(1, requests + 1):
            errors += client.get(next(paths)).status_code != 200

            if done % every == 0:
                yield sample(done)
    finally:
        bench.dispose()


def start(variant: str, url: str, requests: int, every: int) -> subprocess.Popen[str]:
    """Start soaking ``variant`` in a new process."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.soak",
            variant,
            url,
            str(requests),
            str(every),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def samples_of(process: subprocess.Popen[str]) -> list[Sample]:
    """Wait for a soaking process and read its samples."""
    output, _ = process.communicate()

    if process.returncode:
        raise RuntimeError(f"{process.args!r} exited with {process.returncode}")

    return [Sample(**json.loads(line)) for line in output.splitlines()]


def run(
    variants: cabc.Sequence[str], url: str, requests: int, every: int
) -> dict[str, list[Sample]]:
    """Soak ``variants`` side by side, each in its own process."""
    processes = {name: start(name, url, requests, every) for name in variants}
    return {name: samples_of(process) for name, process in processes.items()}


if __name__ == "__main__":
    for point in soak(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])):
        print(json.dumps(dataclasses.asdict(point)), flush=True)
