"""How big a planning problem is, and whether it is small enough to solve inline.

The API solves a problem while the HTTP request waits only when it should take about a
second at most on the worker; anything larger is queued. Solve time grows with the
columns the engine prices (candidates, or one column per possible creator count of a
segment) times the rows they are priced against (the active constraints), so the size is

    size = columns × (1 + active constraints)

and problems up to INLINE_SIZE are solved inline (measured on the 2-core development
machine: a 10,000-candidate selection with 15 constraints, size 160,000, solves in about
0.6 s; 20,000 candidates with tight caps, size 320,000, take 1 to 3 s; the bench's
40-segment allocation, size 197,376, 0.1 to 0.3 s). A problem whose own
time limit is at most INLINE_SECONDS cannot hold a request longer than that, so it is
inline too unless it has more than INLINE_COLUMNS columns (reading those alone takes a
noticeable part of a second).
"""

from __future__ import annotations

from contracts.planning import AllocationProblem, SelectionProblem

INLINE_SIZE = 200_000
INLINE_SECONDS = 1.0
INLINE_COLUMNS = 100_000


def _constraints(problem: AllocationProblem | SelectionProblem) -> int:
    shares = sum(
        (share.min_share > 0) + (share.max_share < 1) for share in problem.tier_shares.values()
    )
    count = 1 + (problem.min_reach > 0) + (problem.min_conversions > 0) + shares
    count += len(problem.max_creators_per_platform) + len(problem.max_creators_per_tier)
    if isinstance(problem, SelectionProblem):
        count += sum(1 for target in problem.min_reach_per_platform.values() if target > 0)
    return count


def columns(problem: AllocationProblem | SelectionProblem) -> int:
    """Candidates, or one column per (segment, creator count)."""
    if isinstance(problem, SelectionProblem):
        return len(problem.candidates)
    return sum(segment.available + 1 for segment in problem.segments)


def problem_size(problem: AllocationProblem | SelectionProblem) -> int:
    """columns × (1 + active constraints)."""
    return columns(problem) * (1 + _constraints(problem))


def solves_inline(problem: AllocationProblem | SelectionProblem) -> bool:
    """True when the problem is small enough to solve while a request waits."""
    return fits_inline(columns(problem), _constraints(problem), problem.time_limit_seconds)


def fits_inline(columns: int, constraints: int, time_limit_seconds: float) -> bool:
    """The same rule for a problem known only by its counts (before it is built)."""
    if columns * (1 + constraints) <= INLINE_SIZE:
        return True
    return time_limit_seconds <= INLINE_SECONDS and columns <= INLINE_COLUMNS
