"""Medians, spread and ratios of interleaved measurements."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import random
import statistics


@dataclasses.dataclass(frozen=True)
class Spread:
    """The median of some values and their interquartile range."""

    median: float
    low: float
    """The 25th percentile."""

    high: float
    """The 75th percentile."""

    @classmethod
    def of(cls, values: cabc.Sequence[float]) -> Spread:
        """Summarise ``values``; one value is its own range."""
        if len(values) < 2:
            return cls(values[0], values[0], values[0])

        low, _, high = statistics.quantiles(values, n=4, method="inclusive")
        return cls(statistics.median(values), low, high)


def ratio(values: cabc.Sequence[float], reference: cabc.Sequence[float]) -> float:
    """The median of ``values`` divided by the median of ``reference``."""
    return statistics.median(values) / statistics.median(reference)


def ratio_interval(
    values: cabc.Sequence[float],
    reference: cabc.Sequence[float],
    *,
    resamples: int = 500,
    seed: int = 0,
) -> tuple[float, float]:
    """A 95% bootstrap confidence interval of :func:`ratio`.

    The two sequences are paired: item ``i`` of each was measured in the same
    round, so rounds are resampled together and drift between rounds cancels.
    """
    rng = random.Random(seed)
    rounds = range(len(values))
    ratios = []

    for _ in range(resamples):
        picked = rng.choices(rounds, k=len(rounds))
        ratios.append(
            ratio([values[i] for i in picked], [reference[i] for i in picked])
        )

    ratios.sort()
    return ratios[int(0.025 * resamples)], ratios[int(0.975 * resamples) - 1]
