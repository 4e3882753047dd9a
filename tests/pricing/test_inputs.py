"""Planning inputs the engine refuses (naming the field) and the inline-or-queued rule."""

from __future__ import annotations

import msgspec
import pytest

from contracts.common import SUPPORTED_CURRENCIES, Platform, Tier
from contracts.planning import (
    AllocationProblem,
    Candidate,
    Segment,
    SelectionProblem,
    ShareRange,
)
from pricing import PricingError, allocate, decode_json, problem_size, select, solves_inline
from pricing.sizing import INLINE_COLUMNS, INLINE_SIZE

SEGMENT = Segment(
    platform=Platform.DOUYIN,
    tier=Tier.NANO,
    fee=1_000,
    reach=2_000.0,
    audience=200_000.0,
    cvr=0.003,
    available=10,
)
CANDIDATE = Candidate(
    id="a", platform=Platform.TIKTOK, tier=Tier.NANO, fee=100, reach=1_000.0, conversions=1.0
)


def test_a_currency_quotes_refuse_is_refused_by_planning_too() -> None:
    assert "XYZ" not in SUPPORTED_CURRENCIES
    with pytest.raises(PricingError) as error:
        allocate(AllocationProblem(segments=[SEGMENT], budget=10_000, currency="XYZ"))
    assert error.value.field == "currency"
    with pytest.raises(PricingError) as error:
        select(SelectionProblem(candidates=[CANDIDATE], budget=10_000, currency="XYZ"))
    assert error.value.field == "currency"
    body = msgspec.json.encode({"segments": [SEGMENT], "budget": 10_000, "currency": "XYZ"})
    with pytest.raises(PricingError) as error:
        decode_json(body, AllocationProblem)
    assert error.value.field == "currency"


@pytest.mark.parametrize("currency", sorted(SUPPORTED_CURRENCIES))
def test_every_currency_quotes_accept_is_accepted_by_planning(currency: str) -> None:
    body = msgspec.json.encode({"candidates": [CANDIDATE], "budget": 100, "currency": currency})
    problem = decode_json(body, SelectionProblem)
    assert select(problem).currency == currency  # type: ignore[union-attr]


def test_a_duplicate_segment_is_refused_naming_its_index() -> None:
    other = msgspec.structs.replace(SEGMENT, tier=Tier.MICRO)
    twice = msgspec.structs.replace(SEGMENT, fee=2_000)
    with pytest.raises(PricingError) as error:
        allocate(AllocationProblem(segments=[SEGMENT, other, twice], budget=10_000))
    assert error.value.field == "segments[2]"
    assert "segments[0]" in error.value.message


def selection(n: int, **constraints: object) -> SelectionProblem:
    candidates = [msgspec.structs.replace(CANDIDATE, id=f"c{i}") for i in range(n)]
    return SelectionProblem(candidates=candidates, budget=10_000, **constraints)  # type: ignore[arg-type]


def test_size_is_columns_times_one_plus_the_active_constraints() -> None:
    assert problem_size(selection(10)) == 10 * 2
    shares = {Tier.NANO: ShareRange(min_share=0.1, max_share=0.5), Tier.MEGA: ShareRange()}
    problem = selection(
        10, min_reach=5.0, tier_shares=shares, max_creators_per_platform={Platform.WEIBO: 3}
    )
    assert problem_size(problem) == 10 * (1 + 5)
    allocation = AllocationProblem(segments=[SEGMENT], budget=1, min_conversions=2.0)
    assert problem_size(allocation) == (SEGMENT.available + 1) * 3


def test_small_problems_are_solved_inline_and_large_ones_queued() -> None:
    limit = INLINE_SIZE // 2  # columns with the budget as the only constraint
    assert solves_inline(selection(limit))
    assert not solves_inline(selection(limit + 1))
    targets = selection(INLINE_SIZE // 4 + 1, min_reach=1.0, min_conversions=1.0)
    assert not solves_inline(targets)
    assert solves_inline(msgspec.structs.replace(targets, time_limit_seconds=1.0))
    huge = msgspec.structs.replace(selection(INLINE_COLUMNS + 1), time_limit_seconds=1.0)
    assert not solves_inline(huge)
    segments = [
        msgspec.structs.replace(SEGMENT, platform=p, tier=t, available=10_000)
        for p in list(Platform)[:5]
        for t in Tier
    ]
    assert not solves_inline(AllocationProblem(segments=segments, budget=10**9))
    assert solves_inline(AllocationProblem(segments=segments[:5], budget=10**9))
