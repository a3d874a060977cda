"""The results as reStructuredText tables, for the docs' Performance page."""

from __future__ import annotations

import collections.abc as cabc

from .connections import CONNECTION_PAGES
from .connections import PoolCount
from .microcost import MicroCost
from .overhead import Row
from .soak import Sample
from .stats import Spread
from .variants import BY_NAME
from .variants import REFERENCE


def table(
    title: str, header: cabc.Sequence[str], rows: cabc.Iterable[cabc.Sequence[str]]
) -> str:
    """A ``list-table`` with a header row."""
    lines = [f".. list-table:: {title}", "   :header-rows: 1", ""]

    for row in (header, *rows):
        lines.extend(
            f"   {'*' if i == 0 else ' '} - {cell}" for i, cell in enumerate(row)
        )

    return "\n".join(lines) + "\n"


def _ms(spread: Spread) -> str:
    return f"{spread.median * 1e3:.2f} ({spread.low * 1e3:.2f}-{spread.high * 1e3:.2f})"


def _target(row: Row) -> str:
    if row.variant.target is None:
        return "—"

    return f"≤ {row.variant.target:.2f}: {'met' if row.met else '**missed**'}"


def _vs_baseline(row: Row) -> str:
    if row.vs_baseline is None or row.interval is None:
        return "—"

    low, high = row.interval
    return f"{row.vs_baseline:.3f} ({low:.3f}-{high:.3f}) x {row.variant.baseline}"


def overhead(
    title: str, rows: cabc.Sequence[Row], remeasured: cabc.Sequence[str] = ()
) -> str:
    """Times per request, and ratios to the reference and to the baseline.

    :param remeasured: Pages measured a second time after exceeding the guard.
    """
    if remeasured:
        title = (
            f"{title} ({', '.join(remeasured)} measured twice: the second time shown)"
        )

    header = [
        "Page",
        "Variant",
        "ms / request (IQR)",
        "requests / s",
        "CPU ms / request (IQR)",
        f"CPU x {REFERENCE.name}",
        f"wall x {REFERENCE.name}",
        "CPU x same-extension stock (95% CI)",
        "Target",
    ]
    cells = (
        [
            f"{row.page} ({row.rounds} rounds)",
            row.variant.name,
            _ms(row.wall),
            f"{row.per_second:.0f}",
            _ms(row.cpu),
            f"{row.cpu_vs_reference:.3f}",
            f"{row.wall_vs_reference:.3f}",
            _vs_baseline(row),
            _target(row),
        ]
        for row in rows
    )
    return table(title, header, cells)


def variants_legend() -> str:
    """What each variant name in the tables stands for."""
    rows = (
        [v.name, v.label, v.baseline or "—", "—" if v.target is None else f"{v.target}"]
        for v in BY_NAME.values()
    )
    return table("The variants", ["Name", "The app passes", "Baseline", "Target"], rows)


def microcost(costs: dict[str, MicroCost]) -> str:
    """Nanoseconds per resolution, against a plain attribute read."""

    def ns(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}"

    rows = (
        [
            name,
            ns(cost.attribute),
            ns(cost.session_attribute),
            ns(cost.get_session),
            ns(cost.use),
            ns(cost.first_use),
            ns(cost.context),
        ]
        for name, cost in costs.items()
    )
    header = [
        "Variant",
        "``view.model`` (a plain attribute)",
        "``session.is_active`` (the session itself)",
        "``view.get_session()``, memoized",
        "Flask-Admin's use of its session, memoized",
        "First use in a new app context (resolves the session)",
        "App context: push, first use, teardown",
    ]
    return table("Nanoseconds per call (medians)", header, rows)


def teardown_extra(ours: MicroCost, baseline: MicroCost) -> float:
    """Nanoseconds pushing and tearing down an app context costs our view more:
    the whole context's time less its first use, against the stock view's."""
    return (ours.context - ours.first_use) - (baseline.context - baseline.first_use)


def extra_per_request(
    ours: MicroCost, baseline: MicroCost, uses: int, teardown: float
) -> float:
    """Nanoseconds a request with ``uses`` uses of the session costs our view
    more than the stock view: the first use, the memoized ones, and ``teardown``
    from :func:`teardown_extra`."""
    first = ours.first_use - baseline.first_use
    return first + (uses - 1) * (ours.use - baseline.use) + teardown


def uses(
    counts: dict[str, int],
    costs: dict[str, MicroCost],
    cpu: dict[tuple[str, str], float],
) -> str:
    """Uses of the session per request, and what they cost our view more.

    Our teardown is the same whatever the source, so it is measured once, on
    Flask-SQLAlchemy: Flask-SQLAlchemy-Lite ends every app context by running an
    ``async`` function in a new thread, whose time varies by more than ours.

    :param cpu: CPU seconds per request by variant and page, if measured.
    """
    ours = [BY_NAME[name] for name in costs if BY_NAME[name].baseline]
    teardown = teardown_extra(costs["fsa"], costs[REFERENCE.name])
    rows = []

    for page, count in counts.items():
        row = [page, str(count)]

        for variant in ours:
            baseline = variant.baseline or ""
            extra = extra_per_request(
                costs[variant.name], costs[baseline], count, teardown
            )
            time = cpu.get((baseline, page))
            share = "" if time is None else f" ({extra / (time * 1e9):.2%})"
            row.append(f"{extra / 1e3:+.1f}{share}")

        rows.append(row)

    header = [
        "Page",
        "Uses per request",
        *(f"{v.name}: µs more than {v.baseline}" for v in ours),
    ]
    return table(
        "Session uses per request, and what they cost our view more (share of the"
        f" baseline's CPU time per request); teardown: {teardown / 1e3:+.1f} µs",
        header,
        rows,
    )


def connections(title: str, counts: dict[str, dict[str, PoolCount]]) -> str:
    """Checkouts and checkins per request, and what is left checked out."""

    def cell(count: PoolCount) -> str:
        out, back = count.checkouts / count.requests, count.checkins / count.requests
        text = f"{out:g} / {back:g}"
        return f"{text}, **{count.left_out} left out**" if count.left_out else text

    rows = (
        [
            name,
            *(cell(by_page[page]) for page in CONNECTION_PAGES),
            "yes"
            if all(count.expected(page != "index") for page, count in by_page.items())
            else "**no**",
        ]
        for name, by_page in counts.items()
    )
    header = ["Variant", *CONNECTION_PAGES, "As expected"]
    return table(title, header, rows)


def soak(title: str, samples: dict[str, list[Sample]]) -> str:
    """The first and last samples of each soaking variant."""
    rows = []

    for name, points in samples.items():
        # The first sample after requests began: templates are compiled by then.
        warm, last = points[1], points[-1]
        rows.append(
            [
                name,
                str(last.requests),
                f"{warm.rss_mib:.1f} → {last.rss_mib:.1f}",
                f"{warm.sessions} → {last.sessions}",
                f"{warm.checked_out} → {last.checked_out}",
                str(last.errors),
            ]
        )

    header = [
        "Variant",
        "Requests",
        f"RSS MiB, after {samples[next(iter(samples))][1].requests} → at end",
        "Live ``Session`` objects",
        "Connections checked out",
        "Failed requests",
    ]
    return table(title, header, rows)
