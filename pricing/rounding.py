"""Rounding of money: half to even, to a whole minor unit, from exact integers only.

Callers pass an exact rational `numerator / denominator` (integers); no float ever takes
part in a returned amount.
"""

from __future__ import annotations

from fractions import Fraction


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, ties to the even one."""
    if denominator == 0:
        raise ZeroDivisionError("denominator must not be zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def round_fraction(value: Fraction) -> int:
    """An exact rational rounded half to even."""
    return round_half_even(value.numerator, value.denominator)


def round_float_exact(value: float) -> int:
    """The exact binary value of a finite float, rounded half to even."""
    numerator, denominator = value.as_integer_ratio()
    return round_half_even(numerator, denominator)


def scaled(value: float, scale: int) -> int:
    """value × scale rounded half to even, computed on the float's exact binary value
    (used to read fractions such as 0.0345 as 34 500 parts per million)."""
    numerator, denominator = value.as_integer_ratio()
    return round_half_even(numerator * scale, denominator)
