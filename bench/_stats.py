"""What the benchmarks report besides the median: a percentile of their timings, and how
busy the machine was while they ran."""

from __future__ import annotations

import os


def percentile(values: list[float], share: float) -> float:
    """The value `share` of the way up the sorted values (0.95: the p95), one of them."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def load_average() -> str:
    """The machine's load average over 1, 5 and 15 minutes, as `uptime` prints it."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
