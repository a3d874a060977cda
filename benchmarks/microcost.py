"""Nanoseconds per session resolution, and how many resolutions a request makes.

Every statement of every variant is timed (wall time) in small chunks,
interleaved in a random order, and summarised by its median.
"""

from __future__ import annotations

import cProfile
import dataclasses
import pstats
import random
import statistics
import time
import timeit
import typing as t

from flask_admin.contrib.sqla._compat import _get_deprecated_session
from sqlalchemy import orm

from flask_admin.contrib.sqla_lite import SessionProxy

from .variants import BenchApp
from .variants import PAGES

USE = "_get_deprecated_session(view.session).is_active"
"""How Flask-Admin uses the session it was given: resolve it, then read an
attribute of the ``Session``."""

IN_REQUEST: dict[str, str] = {
    "attribute": "view.model",
    "session_attribute": "session.is_active",
    "use": USE,
    "get_session": "view.get_session()",
}
"""Statements timed inside a request context whose session is already resolved."""

IN_CONTEXT = ("first_use", "context")
"""Timings of :data:`USE` in a new application context each time."""


@dataclasses.dataclass(frozen=True)
class MicroCost:
    """Nanoseconds per operation."""

    attribute: float
    """A plain instance attribute read, ``view.model``: the floor."""

    session_attribute: float
    """``session.is_active`` on the resolved ``Session`` itself."""

    use: float
    """:data:`USE` once the session is resolved: what each later use costs."""

    get_session: float | None
    """``view.get_session()`` on the memoized path; only our view has it."""

    first_use: float
    """:data:`USE` as the first use in a new application context: it resolves
    the session. Pushing and tearing down the context are not timed."""

    context: float
    """Pushing an application context, the first use, and the teardown that
    releases the session: the fixed cost of a request."""


def _namespace(bench: BenchApp) -> dict[str, object]:
    return {
        "app": bench.app,
        "view": bench.person_view,
        "_get_deprecated_session": _get_deprecated_session,
    }


def _time_in_request(bench: BenchApp, stmt: str, number: int) -> float:
    """Seconds for ``number`` runs of ``stmt`` in a request context whose session
    is resolved."""
    namespace = _namespace(bench)

    with bench.app.test_request_context():
        session = _get_deprecated_session(bench.person_view.session)

        if isinstance(session, (SessionProxy, orm.scoped_session)):
            session = session()

        namespace["session"] = session
        return timeit.Timer(stmt, globals=namespace).timeit(number)


def _time_first_use(bench: BenchApp, number: int, *, whole: bool) -> float:
    """Seconds for ``number`` first uses, each in a new application context.

    :param whole: Time pushing and tearing down the context too.
    """
    namespace = _namespace(bench)
    code = compile(USE, "<use>", "exec")
    total = 0

    for _ in range(number):
        started = time.perf_counter_ns()

        with bench.app.app_context():
            if not whole:
                started = time.perf_counter_ns()

            exec(code, namespace)

            if not whole:
                total += time.perf_counter_ns() - started

        if whole:
            total += time.perf_counter_ns() - started

    return total / 1e9


def measure(
    benches: dict[str, BenchApp], *, chunks: int, number: int
) -> dict[str, MicroCost]:
    """Time every statement of every variant in ``chunks`` interleaved chunks.

    :param number: Runs per chunk of an in-request statement; first uses, each
        in a context of its own, run a tenth as many.
    """
    jobs = [
        (name, key)
        for name, bench in benches.items()
        for key in (*IN_REQUEST, *IN_CONTEXT)
        if key != "get_session" or isinstance(bench.person_view.session, SessionProxy)
    ]
    timings: dict[tuple[str, str], list[float]] = {job: [] for job in jobs}
    rng = random.Random(0)

    for _ in range(chunks):
        for name, key in rng.sample(jobs, len(jobs)):
            if key in IN_CONTEXT:
                runs = max(1, number // 10)
                seconds = _time_first_use(benches[name], runs, whole=key == "context")
            else:
                runs = number
                seconds = _time_in_request(benches[name], IN_REQUEST[key], runs)

            timings[name, key].append(seconds / runs * 1e9)

    def ns(name: str, key: str) -> float:
        return statistics.median(timings[name, key])

    return {
        name: MicroCost(
            attribute=ns(name, "attribute"),
            session_attribute=ns(name, "session_attribute"),
            use=ns(name, "use"),
            get_session=ns(name, "get_session")
            if (name, "get_session") in timings
            else None,
            first_use=ns(name, "first_use"),
            context=ns(name, "context"),
        )
        for name in benches
    }


def _profiled(bench: BenchApp, path: str) -> dict[tuple[str, int, str], t.Any]:
    """The :mod:`cProfile` statistics of one request to ``path``, after a warm-up
    request: ``(file, line, function) -> (primitive calls, calls, ...)``."""
    client = bench.app.test_client()
    client.get(path)
    profile = cProfile.Profile()
    profile.runcall(client.get, path)
    stats: dict[tuple[str, int, str], t.Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return stats


def uses_per_request(bench: BenchApp) -> dict[str, int]:
    """How many times each page's request goes through our view's
    :class:`SessionProxy`, counted by :mod:`cProfile`."""
    return {
        page: sum(
            calls[1]
            for (filename, _, function), calls in _profiled(bench, path).items()
            if filename.endswith("_proxy.py")
            and function in ("__getattr__", "__call__")
        )
        for page, path in PAGES.items()
    }
