"""Instances of the pricing bench and the baselines run on them: HiGHS (through SciPy) and
a plain CP-SAT model over every candidate, each in a child process with the same time
limit as the engine (and a hard stop), so the bench always ends.

Instances come from a seeded numpy RNG: fees follow followers × view rate × CPM by
platform, reach follows views, conversions follow reach × click-through × conversion rate
(with noise).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import time
from fractions import Fraction

import msgspec
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from contracts.common import Platform, Tier
from contracts.planning import (
    AllocationProblem,
    Candidate,
    Segment,
    SelectionProblem,
    ShareRange,
)
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
    dual = getattr(result, "mip_dual_bound", None)
    bound = -dual if dual is not None else math.nan
    answer.put((time.perf_counter() - start, value, bound, result.message))


Answer = tuple[float, float, float, str]


def in_child(target: object, args: tuple[object, ...], seconds: float) -> Answer:
    """(time, value, bound, message) of `target(*args, answer)` in a child process,
    stopped if it overruns its limit by 30 s."""
    answer: mp.Queue = mp.Queue()
    child = mp.Process(target=target, args=(*args, answer))  # type: ignore[arg-type]
    start = time.perf_counter()
    child.start()
    child.join(seconds + 30)
    if child.is_alive():
        child.terminate()
        child.join()
        return time.perf_counter() - start, math.nan, math.nan, "stopped: no answer"
    return answer.get() if not answer.empty() else (math.nan, math.nan, math.nan, "crashed")


def highs(model: dict, seconds: float = HIGHS_SECONDS) -> Answer:
    """HiGHS (through SciPy) on a model of `selection_milp` or `allocation_milp`."""
    return in_child(_highs_child, (model, seconds), seconds)


def hard_selection(n: int, seed: int, cap: int, time_limit: float) -> SelectionProblem:
    """Tight caps (`cap` creators on each platform), a small budget (0.2 % of all fees) and
    a reach target: the LP bound sits well above the integer optimum, so the 0.1 % proof
    needs the integer search's own bound."""
    candidates = catalog(n, seed)
    fees = np.array([c.fee for c in candidates], dtype=float)
    reach = np.array([c.reach for c in candidates])
    budget = int(fees.sum() * 0.002)
    order = np.argsort(-reach / fees)
    affordable = order[np.cumsum(fees[order]) <= budget]
    return SelectionProblem(
        candidates=candidates,
        budget=budget,
        currency="USD",
        min_reach=float(reach[affordable].sum() * 0.3),
        tier_shares=SHARES,
        max_creators_per_platform={p: cap for p in PLATFORMS},
        time_limit_seconds=time_limit,
        gap_limit=0.001,
    )


def reach_bound_selection(n: int, seed: int, time_limit: float) -> SelectionProblem:
    """The bench selection without caps and with a reach target near what the budget can
    buy (85 % of the reach of the most reach per fee), so min_reach binds while
    conversions are maximised."""
    problem = selection_problem(n, seed, time_limit, 0.001)
    fees = np.array([c.fee for c in problem.candidates], dtype=float)
    reach = np.array([c.reach for c in problem.candidates])
    order = np.argsort(-reach / fees)
    affordable = order[np.cumsum(fees[order]) <= problem.budget]
    return msgspec.structs.replace(
        problem, min_reach=float(reach[affordable].sum() * 0.85), max_creators_per_platform={}
    )


def _shares(model: object, spend: list[object], shares: dict[Tier, ShareRange]) -> None:
    """d × E_t >= num × Σ E (min) and d × E_t <= num × Σ E (max), shares as written."""
    total = sum(spend)
    for tier, share in shares.items():
        t = TIERS.index(tier)
        for value, lower in ((share.min_share, True), (share.max_share, False)):
            if (lower and value <= 0) or (not lower and value >= 1):
                continue
            exact = Fraction(repr(value))
            left, right = exact.denominator * spend[t], exact.numerator * total
            model.add(left >= right if lower else left <= right)  # type: ignore[attr-defined]


def _cpsat_selection_child(problem: SelectionProblem, seconds: float, answer: mp.Queue) -> None:
    from ortools.sat.python import cp_model

    start = time.perf_counter()
    c = problem.candidates
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in c]
    fee = [v.fee for v in c]
    tiers = [TIERS.index(v.tier) for v in c]
    spend = [
        cp_model.LinearExpr.weighted_sum(
            [x[i] for i in range(len(c)) if tiers[i] == t],
            [fee[i] for i in range(len(c)) if tiers[i] == t],
        )
        for t in range(len(TIERS))
    ]
    model.add(cp_model.LinearExpr.weighted_sum(x, fee) <= problem.budget)
    _shares(model, spend, problem.tier_shares)
    if problem.min_reach > 0:
        reach = [math.floor(v.reach) for v in c]
        model.add(cp_model.LinearExpr.weighted_sum(x, reach) >= math.ceil(problem.min_reach))
    for platform, cap in problem.max_creators_per_platform.items():
        model.add(sum(x[i] for i, v in enumerate(c) if v.platform == platform) <= cap)
    gain = [round(v.conversions * 10_000) for v in c]
    model.maximize(cp_model.LinearExpr.weighted_sum(x, gain))
    _cpsat_answer(model, seconds, answer, start, lambda s: [v.conversions for v in c], x, 10_000)


def _cpsat_allocation_child(problem: AllocationProblem, seconds: float, answer: mp.Queue) -> None:
    from ortools.sat.python import cp_model

    start = time.perf_counter()
    model = cp_model.CpModel()
    columns, conv, x = [], [], []
    spend: list[list[tuple[object, int]]] = [[] for _ in TIERS]
    reach_row, caps = [], {}
    for s in problem.segments:
        reach, conversions, cost = segment_curves(
            s.fee, s.reach, s.audience, s.cvr, s.commission_per_conversion, s.available
        )
        choice = [model.new_bool_var("") for _ in range(s.available + 1)]
        model.add_exactly_one(choice)
        for k, var in enumerate(choice):
            x.append(var)
            conv.append(float(conversions[k]))
            spend[TIERS.index(s.tier)].append((var, int(cost[k])))
            reach_row.append((var, math.floor(reach[k])))
            for key in (s.platform, s.tier):
                caps.setdefault(key, []).append((var, k))
        columns.append(choice)
    tier_spend = [sum(v * c for v, c in pairs) for pairs in spend]
    model.add(sum(tier_spend) <= problem.budget)
    _shares(model, tier_spend, problem.tier_shares)
    model.add(sum(v * r for v, r in reach_row) >= math.ceil(problem.min_reach))
    limits = {**problem.max_creators_per_platform, **problem.max_creators_per_tier}
    for key, cap in limits.items():
        model.add(sum(v * k for v, k in caps.get(key, [])) <= cap)
    model.maximize(sum(v * round(g * 1_000_000) for v, g in zip(x, conv, strict=True)))
    _cpsat_answer(model, seconds, answer, start, lambda s: conv, x, 1_000_000)


def _cpsat_answer(model, seconds, answer, start, gains, x, scale) -> None:  # type: ignore[no-untyped-def]
    """The chosen columns' exact value, and CP-SAT's bound (on gains rounded to 1/scale)."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        answer.put((time.perf_counter() - start, math.nan, math.nan, solver.status_name(status)))
        return
    values = gains(solver)
    value = math.fsum(g for g, v in zip(values, x, strict=True) if solver.value(v))
    bound = solver.best_objective_bound / scale
    answer.put((time.perf_counter() - start, value, bound, solver.status_name(status)))


def cpsat(problem: AllocationProblem | SelectionProblem) -> Answer:
    """A plain CP-SAT model of the same problem (2 workers, default parameters)."""
    seconds = problem.time_limit_seconds
    if isinstance(problem, SelectionProblem):
        return in_child(_cpsat_selection_child, (problem, seconds), seconds)
    return in_child(_cpsat_allocation_child, (problem, seconds), seconds)
