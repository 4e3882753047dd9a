"""kolmarket's pure pricing engine: quotes, tier allocation and creator selection.

No I/O, no database, no randomness; every figure can be recomputed by hand from the
inputs with the formulas in PRICING.md and `pricing/README.md`.
"""

from pricing.allocation import allocate
from pricing.errors import PricingError, QuoteRefused, decode_json
from pricing.quotes import quote
from pricing.ratecard import check_rate_card, default_rate_card
from pricing.rounding import round_half_even
from pricing.selection import select
from pricing.sizing import problem_size, solves_inline

__all__ = [
    "PricingError",
    "QuoteRefused",
    "allocate",
    "check_rate_card",
    "decode_json",
    "default_rate_card",
    "problem_size",
    "quote",
    "round_half_even",
    "select",
    "solves_inline",
]
