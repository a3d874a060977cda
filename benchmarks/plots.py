"""Plots of the soak and of the overhead ratios, drawn with matplotlib (Agg)."""

from __future__ import annotations

import collections.abc as cabc
import pathlib

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .overhead import Row
from .soak import Sample
from .variants import BY_NAME


def soak(title: str, samples: dict[str, list[Sample]], path: pathlib.Path) -> None:
    """Live sessions and resident memory against the number of requests."""
    figure = Figure(figsize=(11, 4))
    sessions, memory = figure.subplots(1, 2)

    for name, points in samples.items():
        requests = [p.requests for p in points]
        sessions.plot(requests, [p.sessions for p in points], marker=".", label=name)
        memory.plot(requests, [p.rss_mib for p in points], marker=".", label=name)

    sessions.set(title="Live Session objects", xlabel="requests", ylabel="sessions")
    memory.set(title="Resident memory", xlabel="requests", ylabel="RSS (MiB)")
    sessions.legend()
    figure.suptitle(title)
    figure.tight_layout()
    _save(figure, path)


def overhead(
    title: str, modes: cabc.Mapping[str, cabc.Sequence[Row]], path: pathlib.Path
) -> None:
    """Our variants' CPU time ratios to their baselines, with 95% intervals."""
    figure = Figure(figsize=(6 * len(modes), 4.5))
    axes = figure.subplots(1, len(modes), squeeze=False, sharey=True)

    for axis, (mode, rows) in zip(axes[0], modes.items(), strict=True):
        ours = [row for row in rows if row.vs_baseline is not None]
        pages = list(dict.fromkeys(row.page for row in ours))
        names = list(dict.fromkeys(row.variant.name for row in ours))
        width = 0.8 / len(names)

        for offset, name in enumerate(names):
            points = [row for row in ours if row.variant.name == name]
            ratios, below, above = _error_bars(points)
            axis.errorbar(
                [
                    pages.index(row.page) + (offset - (len(names) - 1) / 2) * width
                    for row in points
                ],
                ratios,
                yerr=[below, above],
                fmt="o",
                capsize=3,
                label=name,
            )

        axis.axhline(1.0, color="black", linewidth=0.8)

        for target in sorted({v.target for v in BY_NAME.values() if v.target}):
            axis.axhline(target, color="tab:red", linestyle="--", linewidth=0.8)

        axis.set_xticks(range(len(pages)), pages)
        axis.set_title(mode)

    axes[0][0].set_ylabel("CPU time / same-extension stock view")
    axes[0][0].legend()
    figure.suptitle(f"{title}: medians and 95% intervals; targets dashed")
    figure.tight_layout()
    _save(figure, path)


def growth(
    counts: cabc.Mapping[str, cabc.Mapping[tuple[int, int], float]],
    views: int,
    rows: int,
    path: pathlib.Path,
) -> None:
    """The list page's instructions per request against the registered views
    (with ``rows`` rows) and against the rows per page (with ``views`` views).

    :param counts: Instructions by variant, then by views and rows.
    """
    figure = Figure(figsize=(11, 4))
    by_views, by_rows = figure.subplots(1, 2)

    for variant, by_point in counts.items():
        many = sorted(v for v, r in by_point if r == rows)
        sizes = sorted(r for v, r in by_point if v == views)
        by_views.plot(
            many, [by_point[v, rows] / 1e6 for v in many], marker="o", label=variant
        )
        by_rows.plot(
            sizes, [by_point[views, r] / 1e6 for r in sizes], marker="o", label=variant
        )

    by_views.set(
        title=f"List page, {rows} rows",
        xlabel="registered views",
        ylabel="instructions per request (millions)",
        xscale="log",
    )
    by_rows.set(title=f"List page, {views} views", xlabel="rows per page")
    by_views.legend()
    figure.tight_layout()
    _save(figure, path)


def _error_bars(
    rows: cabc.Sequence[Row],
) -> tuple[list[float], list[float], list[float]]:
    """The ratios of ``rows`` and their distances to the interval's ends."""
    ratios, below, above = [], [], []

    for row in rows:
        assert row.vs_baseline is not None and row.interval is not None
        ratios.append(row.vs_baseline)
        below.append(row.vs_baseline - row.interval[0])
        above.append(row.interval[1] - row.vs_baseline)

    return ratios, below, above


def _save(figure: Figure, path: pathlib.Path) -> None:
    """Write ``figure`` as a PNG through the Agg backend."""
    FigureCanvasAgg(figure)
    figure.savefig(path)
