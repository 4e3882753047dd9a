"""Benchmark of the pricing engine against PRICING.md's targets, with HiGHS (SciPy) on the
same instances for comparison.

    .venv/bin/python bench/pricing.py [--quick]

Instances come from a seeded numpy RNG: fees follow followers × view rate × CPM by
platform, reach follows views, conversions follow reach × click-through × conversion rate
(with noise). HiGHS runs in a child process with a time limit (and a hard stop), so the
bench always ends.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import statistics
import sys
import time
import timeit
from pathlib import Path

import msgspec
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.common import Deliverable, Platform, Tier
from contracts.planning import (
    AllocationProblem,
    Candidate,
    Diagnosis,
    Segment,
    SelectionProblem,
    ShareRange,
)
from contracts.pricing import AccountMetrics, DeliverableOrder, ProductTerms, QuoteRequest
from pricing import allocate, default_rate_card, quote, select
from pricing.allocation import segment_curves

PLATFORMS = [p for p in Platform if p not in (Platform.WECHAT, Platform.TAOBAO_LIVE)]
TIERS = list(Tier)
FOLLOWERS = [(1e3, 1e4), (1e4, 1e5), (1e5, 5e5), (5e5, 1e6), (1e6, 2e7)]
CPM_CENTS = [800, 900, 700, 800, 1800, 1000, 1000, 2200]
SHARES = {Tier.NANO: ShareRange(min_share=0.1), Tier.MICRO: ShareRange(min_share=0.15)} | {
    t: ShareRange(max_share=v) for t, v in ((Tier.MID, 0.35), (Tier.MACRO, 0.3), (Tier.MEGA, 0.2))
}
HIGHS_SECONDS = 60.0
Problem = AllocationProblem | SelectionProblem


def catalog(n: int, seed: int) -> list[Candidate]:
    rng = np.random.default_rng(seed)
    tier = rng.choice(5, size=n, p=[0.55, 0.30, 0.10, 0.035, 0.015])
    platform = rng.integers(0, len(PLATFORMS), size=n)
    low = np.array([f[0] for f in FOLLOWERS])[tier]
    high = np.array([f[1] for f in FOLLOWERS])[tier]
    followers = np.exp(rng.uniform(np.log(low), np.log(high)))
    views = followers * rng.uniform(0.05, 0.3, size=n)
    cpm = np.array(CPM_CENTS)[platform] * rng.lognormal(0, 0.35, size=n)
    fee = np.maximum(100, np.rint(views * cpm / 1000)).astype(np.int64)
    reach = np.rint(views * rng.uniform(0.7, 1.0, size=n))
    conversions = np.round(reach * 0.01 * 0.02 * rng.lognormal(0, 0.6, size=n), 4)
    authenticity = np.round(rng.beta(8, 2, size=n), 3)
    columns = zip(platform.tolist(), tier.tolist(), fee.tolist(), reach.tolist(), strict=True)
    return [
        Candidate(
            id=f"c{i}",
            platform=PLATFORMS[p],
            tier=TIERS[t],
            fee=f,
            reach=r,
            conversions=v,
            authenticity=a,
        )
        for i, ((p, t, f, r), v, a) in enumerate(
            zip(columns, conversions.tolist(), authenticity.tolist(), strict=True)
        )
    ]


def selection_problem(n: int, seed: int, time_limit: float, gap: float) -> SelectionProblem:
    """Budget (2 % of all fees), a reach target, 5 tier shares and 8 platform caps."""
    candidates = catalog(n, seed)
    fees = np.array([c.fee for c in candidates], dtype=float)
    reach = np.array([c.reach for c in candidates])
    budget = int(fees.sum() * 0.02)
    order = np.argsort(-reach / fees)
    affordable = order[np.cumsum(fees[order]) <= budget]
    return SelectionProblem(
        candidates=candidates,
        budget=budget,
        currency="USD",
        min_reach=float(reach[affordable].sum() * 0.5),
        tier_shares=SHARES,
        max_creators_per_platform={p: max(5, n // 250) for p in PLATFORMS},
        time_limit_seconds=time_limit,
        gap_limit=gap,
    )


def allocation_problem(seed: int, time_limit: float) -> AllocationProblem:
    """40 segments (8 platforms × 5 tiers), 200–1000 creators available in each."""
    rng = np.random.default_rng(seed)
    fee = [5_000, 30_000, 200_000, 800_000, 3_000_000]
    reach = [3_000, 20_000, 120_000, 400_000, 1_500_000]
    segments = [
        Segment(
            platform=p,
            tier=t,
            fee=int(fee[i] * rng.uniform(0.6, 1.6)),
            reach=reach[i] * rng.uniform(0.6, 1.5),
            audience=reach[i] * rng.uniform(50, 400),
            cvr=float(rng.uniform(0.0005, 0.003)),
            commission_per_conversion=int(rng.choice([0, 500, 1500])),
            available=int(rng.integers(200, 1001)),
        )
        for p in PLATFORMS
        for i, t in enumerate(TIERS)
    ]
    return AllocationProblem(
        segments=segments,
        budget=200_000_000,
        currency="USD",
        min_reach=5e6,
        tier_shares={
            Tier.NANO: ShareRange(min_share=0.1, max_share=0.4),
            Tier.MEGA: ShareRange(max_share=0.2),
        },
        max_creators_per_platform={Platform.DOUYIN: 300},
        max_creators_per_tier={Tier.MID: 150},
        time_limit_seconds=time_limit,
    )


class Milp:
    """A HiGHS model over n binaries plus spend per tier E_t (5 continuous columns), with
    the same rows as kolmarket's: E_t = spend of tier t, Σ E <= budget, shares on E."""

    def __init__(
        self,
        n: int,
        tier: np.ndarray,
        spend: np.ndarray,
        problem: AllocationProblem | SelectionProblem,
    ) -> None:
        self.n, self.budget = n, problem.budget
        self.rows: list[tuple[list[int], list[float]]] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        for t in range(5):
            members = np.flatnonzero(tier == t)
            self.add([*members.tolist(), n + t], [*spend[members].tolist(), -1.0], 0.0, 0.0)
        self.add([n + t for t in range(5)], [1.0] * 5, -np.inf, problem.budget)
        for tier_name, share in problem.tier_shares.items():
            coefficients = [(k == TIERS.index(tier_name)) - 0.0 for k in range(5)]
            if share.min_share > 0:
                self.add(
                    [n + k for k in range(5)],
                    [c - share.min_share for c in coefficients],
                    0.0,
                    np.inf,
                )
            if share.max_share < 1:
                self.add(
                    [n + k for k in range(5)],
                    [c - share.max_share for c in coefficients],
                    -np.inf,
                    0.0,
                )

    def add(self, columns: list[int], values: list[float], lo: float, hi: float) -> None:
        self.rows.append((columns, values))
        self.lo.append(lo)
        self.hi.append(hi)

    def model(self, gain: np.ndarray) -> dict:
        data = [v for _, values in self.rows for v in values]
        indices = [c for columns, _ in self.rows for c in columns]
        indptr = np.cumsum([0] + [len(columns) for columns, _ in self.rows])
        width = self.n + 5
        return {
            "c": np.concatenate([-gain, np.zeros(5)]),
            "A": csr_matrix((data, indices, indptr), shape=(len(self.rows), width)),
            "lo": self.lo,
            "hi": self.hi,
            "integrality": np.concatenate([np.ones(self.n), np.zeros(5)]),
            "lb": np.zeros(width),
            "ub": np.concatenate([np.ones(self.n), np.full(5, self.budget)]),
        }


def selection_milp(problem: SelectionProblem) -> dict:
    """x per candidate: budget, shares, reach target and platform caps."""
    c = problem.candidates
    n = len(c)
    tier = np.array([TIERS.index(x.tier) for x in c])
    platform = np.array([PLATFORMS.index(x.platform) for x in c])
    milp_model = Milp(n, tier, np.array([x.fee for x in c], dtype=float), problem)
    milp_model.add(list(range(n)), [x.reach for x in c], problem.min_reach, np.inf)
    for p, cap in problem.max_creators_per_platform.items():
        members = np.flatnonzero(platform == PLATFORMS.index(p)).tolist()
        milp_model.add(members, [1.0] * len(members), -np.inf, cap)
    return milp_model.model(np.array([x.conversions for x in c]))


def allocation_milp(problem: AllocationProblem) -> dict:
    """One binary per (segment, k) with the same tabulated R, C and rounded S."""
    segments = problem.segments
    curves = [
        segment_curves(s.fee, s.reach, s.audience, s.cvr, s.commission_per_conversion, s.available)
        for s in segments
    ]
    sizes = [len(r) for r, _, _ in curves]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    reach, conv, spend = (np.concatenate([c[i] for c in curves]) for i in range(3))
    k = np.concatenate([np.arange(s) for s in sizes]).astype(float)
    tier = np.repeat([TIERS.index(s.tier) for s in segments], sizes)
    platform = np.repeat([list(Platform).index(s.platform) for s in segments], sizes)
    milp_model = Milp(int(offsets[-1]), tier, spend, problem)
    for s in range(len(segments)):
        milp_model.add(list(range(offsets[s], offsets[s + 1])), [1.0] * sizes[s], 1.0, 1.0)
    milp_model.add(list(range(int(offsets[-1]))), reach.tolist(), problem.min_reach, np.inf)
    caps = [
        (platform == list(Platform).index(p), c)
        for p, c in problem.max_creators_per_platform.items()
    ]
    caps += [(tier == TIERS.index(t), c) for t, c in problem.max_creators_per_tier.items()]
    for mask, cap in caps:
        members = np.flatnonzero(mask)
        milp_model.add(members.tolist(), k[members].tolist(), -np.inf, cap)
    return milp_model.model(conv)


def _highs_child(model: dict, seconds: float, answer: mp.Queue) -> None:
    start = time.perf_counter()
    result = milp(
        model["c"],
        constraints=LinearConstraint(model["A"], model["lo"], model["hi"]),
        integrality=model["integrality"],
        bounds=Bounds(model["lb"], model["ub"]),
        options={"time_limit": seconds, "mip_rel_gap": 1e-3, "disp": False},
    )
    value = -result.fun if result.x is not None else math.nan
    bound = -getattr(result, "mip_dual_bound", math.nan)
    answer.put((time.perf_counter() - start, value, bound, result.message))


def highs(model: dict, seconds: float = HIGHS_SECONDS) -> tuple[float, float, float, str]:
    """(time, value, bound, message) of HiGHS in a child process, stopped if it overruns."""
    answer: mp.Queue = mp.Queue()
    child = mp.Process(target=_highs_child, args=(model, seconds, answer))
    start = time.perf_counter()
    child.start()
    child.join(seconds + 30)
    if child.is_alive():
        child.terminate()
        child.join()
        return time.perf_counter() - start, math.nan, math.nan, "stopped: no answer"
    return answer.get() if not answer.empty() else (math.nan, math.nan, math.nan, "crashed")


def relative_gap(bound: float, value: float) -> float:
    if not (math.isfinite(bound) and math.isfinite(value)):
        return math.nan
    scale = max(abs(bound), abs(value))
    return 0.0 if scale == 0 else abs(bound - value) / scale


ROWS: list[list[str]] = []
HEADER = ["work", "size", "solver", "time", "objective", "proven gap", "note"]


def row(
    work: str, size: str, solver: str, seconds: float, value: float, gap: float, note: str = ""
) -> None:
    shown_gap = "-" if math.isnan(gap) else f"{gap:.3%}"
    shown_value = "-" if math.isnan(value) else f"{value:,.2f}"
    note = note.split(". (HiGHS")[0][:48]
    ROWS.append([work, size, solver, f"{seconds:.3f} s", shown_value, shown_gap, note])
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


def bench_allocation() -> None:
    problem = allocation_problem(seed=11, time_limit=10.0)
    size = "40 segments × ≤1000"
    times = []
    for _ in range(5):
        start = time.perf_counter()
        plan = allocate(problem)
        times.append(time.perf_counter() - start)
    elapsed = statistics.median(times)
    assert not isinstance(plan, Diagnosis)
    seconds, value, bound, message = highs(allocation_milp(problem))
    best = min(b for b in (plan.bound, bound) if math.isfinite(b))
    note = (
        f"{relative_gap(best, plan.objective_value):.4%} below the best bound of both; "
        f"median of 5 runs, first {times[0]:.3f} s"
    )
    row("allocation", size, "kolmarket", elapsed, plan.objective_value, plan.gap, note)
    row("allocation", size, "HiGHS (scipy)", seconds, value, relative_gap(bound, value), message)


def bench_selection(n: int, time_limit: float, gap_limit: float, with_highs: bool) -> None:
    problem = selection_problem(n, seed=n % 97, time_limit=time_limit, gap=gap_limit)
    size = f"{n:,} candidates"
    start = time.perf_counter()
    plan = select(problem)
    elapsed = time.perf_counter() - start
    assert not isinstance(plan, Diagnosis), plan
    note = f"gap limit {gap_limit:.1%}, time limit {time_limit:g} s"
    row("selection", size, "kolmarket", elapsed, plan.objective_value, plan.gap, note)
    if with_highs:
        seconds, value, bound, message = highs(selection_milp(problem))
        row("selection", size, "HiGHS (scipy)", seconds, value, relative_gap(bound, value), message)


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
        "--quick", action="store_true", help="skip the 1,000,000 run and HiGHS at 100,000"
    )
    args = parser.parse_args()
    warm_up()
    bench_quote()
    bench_allocation()
    bench_selection(10_000, 20.0, 0.001, with_highs=True)
    bench_selection(100_000, 20.0, 0.001, with_highs=not args.quick)
    if not args.quick:
        bench_selection(1_000_000, 20.0, 0.005, with_highs=False)
        bench_decoding(1_000_000)
    print_table()


if __name__ == "__main__":
    main()
