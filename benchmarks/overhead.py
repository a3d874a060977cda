"""Time per request of every page for every variant, interleaved request by
request.

Each round makes one request of the page to every variant, in a new random
order, so whatever else the shared, noisy machine does hits all variants alike.
Times are compared by their medians; confidence intervals resample whole rounds.
"""

from __future__ import annotations

import collections.abc as cabc
import concurrent.futures
import dataclasses
import http.client
import pathlib
import random
import statistics
import subprocess
import sys
import threading
import time
import typing as t

from .stats import ratio
from .stats import ratio_interval
from .stats import Spread
from .variants import BenchApp
from .variants import BY_NAME
from .variants import PAGES
from .variants import REFERENCE
from .variants import Variant

ROOT = pathlib.Path(__file__).parents[1]


@dataclasses.dataclass
class Timing:
    """Seconds per request of one variant on one page, one value per round."""

    wall: list[float] = dataclasses.field(default_factory=list)
    cpu: list[float] = dataclasses.field(default_factory=list)


Timings: t.TypeAlias = dict[str, dict[str, Timing]]
"""Timings by page, then by variant name."""


class Runner(t.Protocol):
    """Makes one request and says how long it took."""

    mode: str
    """Where the requests are served, for the tables."""

    clients: int
    """How many requests are in flight at once."""

    def request(self, variant: str, page: str) -> tuple[float, float]:
        """Make one request; return its wall and CPU seconds."""
        ...


class InProcess:
    """Requests through each app's Flask test client, in this process."""

    mode = "in-process (Flask test client)"
    clients = 1

    def __init__(self, apps: dict[str, BenchApp]) -> None:
        self.clients_by_variant = {
            name: bench.app.test_client() for name, bench in apps.items()
        }

    def request(self, variant: str, page: str) -> tuple[float, float]:
        """Make one request; its CPU time is this process's."""
        client = self.clients_by_variant[variant]
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(PAGES[page])
        # A streamed page (the export) runs and ends its request as it is closed.
        response.close()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall

        if response.status_code != 200:
            raise RuntimeError(f"{variant} {PAGES[page]}: {response.status}")

        return wall, cpu


class ThreadedServer:
    """Requests over HTTP/1.1 keep-alive to :mod:`benchmarks.server`, one
    connection per client thread."""

    def __init__(self, url: str, clients: int) -> None:
        self.clients = clients
        self.mode = f"threaded server, {clients} concurrent clients"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server", url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.local = threading.local()
        self.connections: list[http.client.HTTPConnection] = []

    def close(self) -> None:
        """Close the connections and stop the server."""
        for connection in self.connections:
            connection.close()

        self.process.terminate()
        self.process.wait()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(
            self.local, "connection", None
        )

        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port)
            self.local.connection = connection
            self.connections.append(connection)

        return connection

    def request(self, variant: str, page: str) -> tuple[float, float]:
        """Make one request; its CPU time is the serving thread's, as the
        server reports it."""
        connection = self._connection()
        path = f"/{variant}{PAGES[page]}"
        wall = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        wall = time.perf_counter() - wall

        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {response.reason}")

        return wall, float(response.headers["X-CPU-Time"])


def interleave(
    runner: Runner,
    variants: cabc.Sequence[str],
    *,
    seconds_per_page: float,
    min_rounds: int,
    pages: cabc.Iterable[str] = PAGES,
    seed: int = 0,
) -> Timings:
    """Time each page of every variant in interleaved rounds.

    :param seconds_per_page: About how long each page is measured; the number
        of rounds is set from the warm-up time.
    :param min_rounds: The fewest rounds for a page, however slow.
    """
    timings: Timings = {page: {v: Timing() for v in variants} for page in pages}
    lock = threading.Lock()

    def client(page: str, rounds: int, rng: random.Random) -> None:
        for _ in range(rounds):
            samples = {
                v: runner.request(v, page) for v in rng.sample(variants, len(variants))
            }

            with lock:
                for variant, (wall, cpu) in samples.items():
                    timings[page][variant].wall.append(wall)
                    timings[page][variant].cpu.append(cpu)

    with concurrent.futures.ThreadPoolExecutor(runner.clients) as pool:
        for number, page in enumerate(timings):
            warm_up = [runner.request(v, page) for v in variants for _ in range(3)]
            per_round = statistics.median(w for w, _ in warm_up) * len(variants)
            # One request is served at a time (the GIL), whatever the number of
            # clients: the clients share the rounds out.
            rounds = max(min_rounds, round(seconds_per_page / per_round))
            rounds = -(-rounds // runner.clients)
            futures = [
                pool.submit(
                    client, page, rounds, random.Random(seed + number * 100 + i)
                )
                for i in range(runner.clients)
            ]

            for future in futures:
                future.result()

    return timings


@dataclasses.dataclass(frozen=True)
class Row:
    """The summary of one variant on one page."""

    page: str
    variant: Variant
    rounds: int
    wall: Spread
    """Seconds per request: median and interquartile range."""

    cpu: Spread
    """CPU seconds per request."""

    per_second: float
    """Requests per second: the clients divided by the mean wall time."""

    wall_vs_reference: float
    cpu_vs_reference: float

    vs_baseline: float | None
    """CPU time ratio to the baseline, ``None`` for stock views."""

    interval: tuple[float, float] | None
    """95% confidence interval of :attr:`vs_baseline`."""

    @property
    def met(self) -> bool:
        """Whether :attr:`vs_baseline` is within the variant's target."""
        return (
            self.variant.target is not None
            and self.vs_baseline is not None
            and self.vs_baseline <= self.variant.target
        )


def summarise(timings: Timings, clients: int) -> list[Row]:
    """One row per page and variant, in the order they were measured."""
    rows = []

    for page, by_variant in timings.items():
        reference = by_variant[REFERENCE.name]

        for name, timing in by_variant.items():
            variant = BY_NAME[name]
            baseline = by_variant.get(variant.baseline or "")
            rows.append(
                Row(
                    page=page,
                    variant=variant,
                    rounds=len(timing.cpu),
                    wall=Spread.of(timing.wall),
                    cpu=Spread.of(timing.cpu),
                    per_second=clients / statistics.fmean(timing.wall),
                    wall_vs_reference=ratio(timing.wall, reference.wall),
                    cpu_vs_reference=ratio(timing.cpu, reference.cpu),
                    vs_baseline=None
                    if baseline is None
                    else ratio(timing.cpu, baseline.cpu),
                    interval=None
                    if baseline is None
                    else ratio_interval(timing.cpu, baseline.cpu),
                )
            )

    return rows
