"""Domain errors of the pricing engine, each naming the input field at fault."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

from contracts.common import SUPPORTED_CURRENCIES

T = TypeVar("T")

_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


class PricingError(ValueError):
    """Bad input: `field` is the dotted path of the offending field, `message` the rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class QuoteRefused(PricingError):
    """The inputs are valid but the rate card refuses to price them (e.g. authenticity)."""


def check_currency(currency: str | None, field: str = "currency") -> None:
    """Quotes and plans accept the same currencies (`contracts.common.SUPPORTED_CURRENCIES`)."""
    if currency is not None and currency not in SUPPORTED_CURRENCIES:
        raise PricingError(field, f"{currency} is not a supported currency")


def decode_json(data: bytes | str, type_: type[T]) -> T:
    """Decode JSON into a contract struct; any violation becomes a PricingError naming the
    field (`candidates[3].fee`), or the empty field for malformed JSON."""
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.ValidationError as error:
        text = str(error)
        match = _PATH.search(text)
        field = match.group("path") if match else ""
        message = text[: match.start()] if match else text
        raise PricingError(field, message) from None
    except msgspec.DecodeError as error:
        raise PricingError("", f"malformed JSON: {error}") from None
