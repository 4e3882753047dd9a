"""Benchmark of the pricing engine against PRICING.md's targets, with HiGHS (SciPy) and a
plain CP-SAT model on the same instances and time limits for comparison.

    .venv/bin/python bench/pricing.py [--quick]

In one run: quotes; allocation; selections of 10,000 to 1,000,000 candidates; selections
where the reach target binds; hard selections (tight caps, the LP bound well above the
optimum); `kolmarket plan` with its process start; and a scarce-CPU run, the engine pinned
to one core beside a busy process on the same core, reporting the gap it reaches (and
whether the plan is the one found on a free core). Instances are in `pricing_models.py`,
the runs that need their own process in `pricing_runs.py`.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import timeit
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pricing_models import (
    allocation_milp,
    allocation_problem,
    catalog,
    cpsat,
    hard_selection,
    highs,
    reach_bound_selection,
    selection_milp,
    selection_problem,
)
from bench.pricing_runs import cli_seconds, pinned
from contracts.common import Deliverable, Platform
from contracts.planning import AllocationProblem, Diagnosis, SelectionProblem
from contracts.pricing import AccountMetrics, DeliverableOrder, ProductTerms, QuoteRequest
from pricing import allocate, default_rate_card, quote, select

NONE = (math.nan, math.nan)
ROWS: list[list[str]] = []
HEADER = ["work", "size", "solver", "time", "objective", "proven gap", "note"]


def relative_gap(bound: float, value: float) -> float:
    if not (math.isfinite(bound) and math.isfinite(value)):
        return math.nan
    scale = max(abs(bound), abs(value))
    return 0.0 if scale == 0 else abs(bound - value) / scale


def row(
    work: str, size: str, solver: str, seconds: float, value: float, gap: float, note: str = ""
) -> None:
    shown_gap = "-" if math.isnan(gap) else f"{gap:.3%}"
    shown_value = "-" if math.isnan(value) else f"{value:,.2f}"
    shown_time = "-" if math.isnan(seconds) else f"{seconds:.3f} s"
    note = note.split(". (HiGHS")[0][:80]
    ROWS.append([work, size, solver, shown_time, shown_value, shown_gap, note])
    print("  " + " | ".join(ROWS[-1]), file=sys.stderr, flush=True)


def bench_quote() -> None:
    card = default_rate_card()
    request = QuoteRequest(
        account=AccountMetrics(
            platform=Platform.TIKTOK,
            followers=85_000,
            median_views=40_000,
            engagement_rate=0.072,
            authenticity=0.9,
        ),
        deliverable=DeliverableOrder(kind=Deliverable.SHORT_VIDEO, count=1),
        product=ProductTerms(average_order_value=6_900, commission_bp=1_500),
        currency="USD",
    )
    number = 20_000
    seconds = min(timeit.repeat(lambda: quote(request, card), number=number, repeat=3)) / number
    cells = ["quote", "1 deliverable", "kolmarket", f"{seconds * 1e6:.1f} µs", "-", "exact"]
    ROWS.append([*cells, "target < 50 µs"])


def baselines(
    work: str, size: str, problem: AllocationProblem | SelectionProblem, milp: bool
) -> None:
    """CP-SAT (plain model) and, when `milp`, HiGHS on the same problem and time limit."""
    seconds, value, bound, message = cpsat(problem)
    row(work, size, "CP-SAT (plain)", seconds, value, relative_gap(bound, value), message)
    if milp:
        model = (
            selection_milp(problem)
            if isinstance(problem, SelectionProblem)
            else allocation_milp(problem)
        )
        seconds, value, bound, message = highs(model, problem.time_limit_seconds)
        row(work, size, "HiGHS (scipy)", seconds, value, relative_gap(bound, value), message)


def bench_allocation() -> None:
    problem = allocation_problem(seed=11, time_limit=20.0)
    size = "40 segments × ≤1000"
    times, cpu = [], time.process_time()
    for _ in range(5):
        start = time.perf_counter()
        plan = allocate(problem)
        times.append(time.perf_counter() - start)
    cpu = (time.process_time() - cpu) / 5
    assert not isinstance(plan, Diagnosis)
    note = f"median of 5, first {times[0]:.3f} s; cpu {cpu:.3f} s each; {plan.stop_reason}"
    row(
        "allocation",
        size,
        "kolmarket",
        statistics.median(times),
        plan.objective_value,
        plan.gap,
        note,
    )
    baselines("allocation", size, problem, milp=True)


def solved(work: str, size: str, problem: SelectionProblem, binding: bool = False) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    plan = select(problem)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if isinstance(plan, Diagnosis):
        row(work, size, "kolmarket", elapsed, math.nan, math.nan, f"{plan.status}")
        return
    text = f"cpu {cpu:.2f} s; limit {problem.time_limit_seconds:g} s; {plan.stop_reason}"
    if binding:
        text += f"; binding: {', '.join(b for b in plan.binding if '.' not in b)}"
    row(work, size, "kolmarket", elapsed, plan.objective_value, plan.gap, text)


def bench_selection(n: int, gap_limit: float, with_highs: bool, with_cpsat: bool) -> None:
    problem = selection_problem(n, seed=n % 97, time_limit=20.0, gap=gap_limit)
    size = f"{n:,} candidates"
    solved("selection", size, problem)
    if with_cpsat:
        baselines("selection", size, problem, milp=with_highs)


def bench_reach_bound(n: int, with_baselines: bool) -> None:
    problem = reach_bound_selection(n, seed=n % 89, time_limit=20.0)
    size = f"{n:,} candidates"
    solved("min_reach binds", size, problem, binding=True)
    if with_baselines:
        baselines("min_reach binds", size, problem, milp=n <= 10_000)


HARD = ((3, 10), (6, 12), (7, 10))


def bench_hard(with_baselines: bool) -> None:
    for seed, cap in HARD:
        problem = hard_selection(20_000, seed, cap, time_limit=20.0)
        size = f"20,000, caps {cap}"
        solved("hard selection", size, problem)
        if with_baselines and seed == HARD[0][0]:
            baselines("hard selection", size, problem, milp=False)


def bench_scarce_cpu() -> None:
    """Half a core: the same problems pinned to one core beside a busy process."""
    cases = [(f"hard 20,000 caps {c}", hard_selection(20_000, s, c, 20.0)) for s, c in HARD]
    cases.append(("100,000 candidates", selection_problem(100_000, 100_000 % 97, 20.0, 0.001)))
    for label, problem in cases:
        free = pinned(problem, busy=False)
        shared = pinned(problem, busy=True)
        same = (
            "same plan as on a free core"
            if shared.fingerprint == free.fingerprint
            else "another plan"
        )
        row(
            "scarce CPU",
            label,
            "kolmarket, free core",
            free.seconds,
            free.value,
            free.gap,
            f"cpu {free.cpu:.2f} s; {free.note}",
        )
        note = f"cpu {shared.cpu:.2f} s; {shared.note}; {same}"
        row(
            "scarce CPU",
            label,
            "kolmarket, half a core",
            shared.seconds,
            shared.value,
            shared.gap,
            note,
        )


def bench_cli() -> None:
    tiny = SelectionProblem(candidates=catalog(3, 1), budget=500_000, currency="USD")
    big = selection_problem(100_000, seed=100_000 % 97, time_limit=20.0, gap=0.001)
    for bytecode in (False, True):
        cache = "bytecode cached" if bytecode else "compiled at start"
        times = cli_seconds("select", tiny, runs=5, bytecode=bytecode)
        note = f"{cache}; median of 5, max {max(times):.3f} s; target < 0.5 s"
        row("kolmarket plan", "3 candidates", "CLI wall", statistics.median(times), *NONE, note)
        times = cli_seconds("select", big, runs=3, bytecode=bytecode)
        note = f"{cache}; JSON read; median of 3, max {max(times):.3f} s; target < 2 s"
        row(
            "kolmarket plan",
            "100,000 candidates",
            "CLI wall",
            statistics.median(times),
            *NONE,
            note,
        )


def bench_decoding(n: int) -> None:
    problem = selection_problem(n, seed=1, time_limit=20.0, gap=0.005)
    data = msgspec.json.encode(problem)
    start = time.perf_counter()
    msgspec.json.decode(data, type=SelectionProblem)
    elapsed = time.perf_counter() - start
    cells = ["decode JSON", f"{n:,} candidates", "msgspec", f"{elapsed:.3f} s", "-", "-"]
    ROWS.append([*cells, f"{len(data) / 1e6:.0f} MB"])


def print_table() -> None:
    widths = [max(len(r[i]) for r in [HEADER, *ROWS]) for i in range(len(HEADER))]
    for line in [HEADER, ["-" * w for w in widths], *ROWS]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))


def warm_up() -> None:
    """Solve two tiny problems first: the timings below are those of a running server."""
    select(selection_problem(200, seed=0, time_limit=5.0, gap=0.001))
    small = allocation_problem(seed=0, time_limit=5.0)
    allocate(msgspec.structs.replace(small, segments=small.segments[:5]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the 1,000,000 run, the baselines at 100,000 and the hard cases' baseline",
    )
    quick = parser.parse_args().quick
    warm_up()
    bench_quote()
    bench_allocation()
    bench_selection(10_000, 0.001, with_highs=True, with_cpsat=True)
    bench_selection(100_000, 0.001, with_highs=not quick, with_cpsat=not quick)
    bench_reach_bound(10_000, with_baselines=True)
    bench_reach_bound(100_000, with_baselines=False)
    bench_hard(with_baselines=not quick)
    bench_cli()
    bench_scarce_cpu()
    if not quick:
        bench_selection(1_000_000, 0.005, with_highs=False, with_cpsat=False)
        bench_decoding(1_000_000)
    print_table()


if __name__ == "__main__":
    main()
