"""Money is rounded once, half to even, from exact integers."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.rounding import round_float_exact, round_fraction, round_half_even, scaled


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 2), (7, 2, 4), (-5, 2, -2), (-7, 2, -4), (1, 3, 0), (2, 3, 1), (10, -4, -2), (0, 7, 0)],
)
def test_ties_go_to_the_even_neighbour(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_even(numerator, denominator) == expected


@given(st.integers(-(10**30), 10**30), st.integers(1, 10**12))
def test_rounding_matches_exact_rational_rounding(numerator: int, denominator: int) -> None:
    assert round_half_even(numerator, denominator) == round(Fraction(numerator, denominator))
    assert round_fraction(Fraction(numerator, denominator)) == round(
        Fraction(numerator, denominator)
    )


@given(st.floats(-1e12, 1e12, allow_nan=False))
def test_a_float_is_rounded_on_its_exact_binary_value(value: float) -> None:
    assert round_float_exact(value) == round(Fraction(value))


def test_fractions_are_read_as_exact_parts_per_million() -> None:
    assert scaled(0.0345, 1_000_000) == 34_500
    assert scaled(0.92, 1_000_000) == 920_000


def test_zero_denominator_is_refused() -> None:
    with pytest.raises(ZeroDivisionError):
        round_half_even(1, 0)
