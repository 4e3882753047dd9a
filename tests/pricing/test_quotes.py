"""Quotes: transparent, exact, deterministic and monotone."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.common import Deliverable, Platform
from contracts.pricing import AccountMetrics, DeliverableOrder, LineCode, ProductTerms, QuoteRequest
from pricing import PricingError, QuoteRefused, decode_json, default_rate_card, quote

CARD = default_rate_card()


def request(**account: object) -> QuoteRequest:
    metrics = {
        "platform": Platform.INSTAGRAM,
        "followers": 45_000,
        "median_views": 12_000,
        "engagement_rate": 0.031,
        "authenticity": 0.92,
    }
    metrics.update(account)
    return QuoteRequest(
        account=AccountMetrics(**metrics),  # type: ignore[arg-type]
        deliverable=DeliverableOrder(kind=Deliverable.SHORT_VIDEO, count=2),
        product=ProductTerms(average_order_value=4_999, commission_bp=1_500),
        currency="USD",
    )


def amounts(q) -> dict[LineCode, int]:
    return {line.code: line.amount for line in q.lines}


def test_a_micro_instagram_quote_can_be_recomputed_by_hand() -> None:
    q = quote(request(), CARD)
    lines = amounts(q)
    # 24 000 views × 1 000 cents / 1 000 × 1.0
    assert lines[LineCode.BASE_FEE] == 24_000
    # engagement 3.1 % vs the micro median 2.4 %: ratio 1.291666…, × 24 000 → 7 000
    assert lines[LineCode.ENGAGEMENT_ADJUSTMENT] == 7_000
    # (24 000 + 7 000) × (0.92 − 1) = −2 480
    assert lines[LineCode.AUTHENTICITY_ADJUSTMENT] == -2_480
    assert q.creator_fee == 28_520
    assert q.platform_fee == 2_852
    assert q.merchant_pays == 31_372
    assert q.commission_per_conversion == 750  # 4 999 × 15 % = 749.85 → 750
    assert q.expected_conversions == pytest.approx(4.8)  # 24 000 × 1 % × 2 %
    assert lines[LineCode.EXPECTED_COMMISSION] == 3_600
    assert q.tier == "micro"
    assert q.effective_cpm == round(31_372 * 1000 / 24_000)


def test_the_quote_names_its_rate_card_version() -> None:
    assert quote(request(), CARD).rate_card_version == CARD.version


def test_same_inputs_give_the_same_quote_byte_for_byte() -> None:
    first = msgspec.json.encode(quote(request(), CARD))
    copy_of_card = msgspec.json.decode(msgspec.json.encode(CARD), type=type(CARD))
    again = msgspec.json.encode(quote(request(), copy_of_card))
    assert first == again


accounts = st.fixed_dictionaries(
    {
        "platform": st.sampled_from(list(Platform)),
        "followers": st.integers(0, 5_000_000),
        "median_views": st.integers(0, 50_000_000),
        "engagement_rate": st.floats(0.0, 1.0),
        "authenticity": st.floats(0.6, 1.0),
    }
)


@settings(max_examples=200, deadline=None)
@given(accounts)
def test_lines_add_up_to_the_totals_exactly(account: dict) -> None:
    q = quote(request(**account), CARD)
    lines = amounts(q)
    parts = (LineCode.BASE_FEE, LineCode.ENGAGEMENT_ADJUSTMENT, LineCode.AUTHENTICITY_ADJUSTMENT)
    assert q.creator_fee == sum(lines[c] for c in parts) == lines[LineCode.CREATOR_FEE]
    assert q.merchant_pays == q.creator_fee + q.platform_fee == lines[LineCode.MERCHANT_PAYS]
    assert all(isinstance(line.amount, int) for line in q.lines)


@settings(max_examples=200, deadline=None)
@given(accounts, st.integers(0, 5_000_000))
def test_more_expected_views_never_lower_the_fee(account: dict, extra: int) -> None:
    low = quote(request(**account), CARD)
    high = quote(request(**{**account, "median_views": account["median_views"] + extra}), CARD)
    assert high.creator_fee >= low.creator_fee
    assert high.merchant_pays >= low.merchant_pays


@settings(max_examples=200, deadline=None)
@given(accounts, st.floats(0.0, 0.4))
def test_lower_authenticity_never_raises_the_fee(account: dict, drop: float) -> None:
    high = quote(request(**account), CARD)
    lowered = max(0.6, account["authenticity"] - drop)
    low = quote(request(**{**account, "authenticity": lowered}), CARD)
    assert low.creator_fee <= high.creator_fee
    assert low.merchant_pays <= high.merchant_pays


def test_an_account_below_the_authenticity_floor_is_refused_with_a_reason() -> None:
    with pytest.raises(QuoteRefused) as refused:
        quote(request(authenticity=0.41), CARD)
    assert refused.value.field == "account.authenticity"
    assert "below the floor" in refused.value.message


def body(**changes: object) -> bytes:
    data = msgspec.to_builtins(request())
    for path, value in changes.items():
        target = data
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return msgspec.json.encode(data)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account__followers": -1}, "account.followers"),
        ({"account__engagement_rate": 1.5}, "account.engagement_rate"),
        ({"account__platform": "myspace"}, "account.platform"),
        ({"currency": "usd"}, "currency"),
        ({"deliverable__count": 0}, "deliverable.count"),
        ({"product__commission_bp": 10_001}, "product.commission_bp"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(changes: dict, field: str) -> None:
    with pytest.raises(PricingError) as error:
        decode_json(body(**changes), QuoteRequest)
    assert error.value.field == field


def test_an_unsupported_currency_is_refused_naming_the_field() -> None:
    bad = msgspec.structs.replace(request(), currency="XYZ")
    with pytest.raises(PricingError) as error:
        quote(bad, CARD)
    assert error.value.field == "currency"
    other = msgspec.structs.replace(request(), currency="EUR")
    with pytest.raises(PricingError, match="prices in USD"):
        quote(other, CARD)


def test_values_built_in_code_are_checked_too() -> None:
    with pytest.raises(PricingError) as error:
        quote(request(followers=-5), CARD)
    assert error.value.field == "account.followers"
    with pytest.raises(PricingError) as error:
        quote(request(engagement_rate=float("nan")), CARD)
    assert error.value.field == "account.engagement_rate"


def test_nothing_expected_means_no_unit_cost() -> None:
    q = quote(request(median_views=0), CARD)
    assert q.merchant_pays == 0
    assert q.cost_per_engagement is None
    assert q.cost_per_expected_conversion is None
