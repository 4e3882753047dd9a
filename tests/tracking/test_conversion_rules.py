"""The pure rules of conversions: commission arithmetic, caps, windows and fraud signals."""

import uuid
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from contracts.deals import DealStatus
from contracts.tracking import ConversionIn, ConversionStatus, Reason
from services.tracking import rules

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def deal(**changes: object) -> rules.DealFacts:
    values: dict[str, object] = {
        "id": uuid.UUID(int=1),
        "kol_id": uuid.UUID(int=2),
        "status": DealStatus.FUNDED,
        "currency": "USD",
        "commission_bp": 1_000,
        "commission_cap": None,
        "take_rate_bp": 1_500,
        "attribution_days": 30,
        "created_at": T0,
        "approved_at": None,
        "return_days": 14,
        "click_required": False,
        "kol_buyer_ref": "k" * 64,
        "commission_counted": 0,
    }
    values.update(changes)
    return rules.DealFacts(**values)  # type: ignore[arg-type]


def judge(
    facts: rules.DealFacts, clicks: dict[uuid.UUID, rules.Click] | None = None
) -> rules.Judge:
    return rules.Judge(T0 + timedelta(days=3), {"code12345678": facts.id}, clicks or {},
                       {facts.id: facts}, {})  # fmt: skip


def item(amount: int = 10_000, at: datetime | None = None, **more: object) -> ConversionIn:
    fields: dict[str, object] = {"currency": "USD", **more}
    return ConversionIn(order_id=uuid.uuid4().hex, amount=amount,
                        occurred_at=at or T0 + timedelta(days=1), **fields)  # type: ignore[arg-type]  # fmt: skip


def test_commission_rounds_half_to_even_and_respects_what_is_left_of_the_cap() -> None:
    assert rules.commission(125, 1_000, None) == 12  # 12.5 → 12
    assert rules.commission(135, 1_000, None) == 14  # 13.5 → 14
    assert rules.commission(10_000, 1_000, 300) == 300
    assert rules.commission(10_000, 1_000, 0) == 0


@given(st.lists(st.integers(0, 10**7), max_size=40), st.integers(0, 10_000), st.integers(0, 10**6))
def test_a_deals_commissions_never_pass_its_cap(amounts: list[int], bp: int, cap: int) -> None:
    facts = deal(commission_bp=bp, commission_cap=cap)
    decide = judge(facts).decide
    given_out = [decide(item(a, tracking_code="code12345678")).commission for a in amounts]
    assert sum(given_out) <= cap
    assert given_out == _expected(amounts, bp, cap)


def _expected(amounts: list[int], bp: int, cap: int) -> list[int]:
    left, out = cap, []
    for amount in amounts:
        earned = min(round(Fraction(amount * bp, 10_000)), left)  # round() is half to even
        out.append(earned)
        left -= earned
    return out


def test_the_window_runs_from_the_click_and_never_past_attribution_after_approval() -> None:
    clicked = T0 + timedelta(days=2)
    approved = deal(approved_at=T0 + timedelta(days=5))
    assert rules.window(deal(), None) == (T0, None)
    assert rules.window(deal(), rules.Click(uuid.UUID(int=1), clicked)) == (
        clicked,
        clicked + timedelta(days=30),
    )
    late = T0 + timedelta(days=10)
    assert rules.window(approved, rules.Click(uuid.UUID(int=1), late)) == (
        late,
        T0 + timedelta(days=35),
    )


def test_a_held_order_still_counts_towards_the_cap() -> None:
    facts = deal(commission_cap=1_500)
    decide = judge(facts).decide
    own = decide(item(10_000, tracking_code="code12345678", buyer_ref="K" * 64))
    other = decide(item(10_000, tracking_code="code12345678"))
    assert (own.status, own.reasons, own.commission) == (
        ConversionStatus.HELD,
        (Reason.BUYER_IS_KOL,),
        1_000,
    )
    assert other.commission == 500


def test_a_cancelled_deal_and_a_foreign_currency_are_both_named() -> None:
    facts = deal(status=DealStatus.REFUNDED)
    verdict = judge(facts).decide(item(tracking_code="code12345678", currency="EUR"))
    assert verdict.status == ConversionStatus.REJECTED
    assert verdict.reasons == (Reason.DEAL_CANCELLED, Reason.CURRENCY_MISMATCH)


def test_platform_cut_and_hold() -> None:
    verdict = judge(deal()).decide(item(12_345, tracking_code="code12345678"))
    assert (verdict.commission, verdict.platform_cut) == (1_234, 185)  # 1,234.5 → 1,234; 185.1
    assert verdict.hold_until == T0 + timedelta(days=15)
