"""Shared by the benchmarks: a scratch database migrated to head, and latency summaries."""

import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from tests.support import database as throwaway


@contextmanager
def scratch_database() -> Iterator[str]:
    """A database of its own, migrated to head, dropped afterwards: on DATABASE_URL's server,
    or on an embedded one made for this run."""
    configured = os.environ.get("DATABASE_URL")
    server = nullcontext(configured) if configured else throwaway.temporary_server()
    with server as server_url, throwaway.scratch_database(server_url, "kolmarket_bench") as url:
        yield url


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": ordered[-1]}


def row(label: str, figures: dict[str, float], unit: str = "ms") -> str:
    cells = "  ".join(f"{k}={v:8.3f}{unit}" for k, v in figures.items())
    return f"{label:<40} {cells}"
