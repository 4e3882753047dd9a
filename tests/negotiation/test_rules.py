"""The pure rules of negotiation: the offer state machine, the breakdown's arithmetic, the
budget, and the deal's fingerprint."""

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.common import Deliverable, Platform
from contracts.offers import DeliverableTerm, OfferStatus, Side, Terms
from services.deals.rules import Acceptance, canonical_json, fingerprint, frozen_terms
from services.errors import Invalid
from services.negotiation import rules
from services.negotiation.rules import Action

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FRAME = rules.BriefFrame(
    currency="USD",
    platforms=frozenset({Platform.TIKTOK}),
    posting_from=date(2026, 12, 1),
    posting_until=date(2026, 12, 31),
    average_order_value=4_999,
    attribution_days=30,
)


def _terms(fee: int = 10_000, bp: int = 1_500, cap: int | None = None) -> Terms:
    return Terms(
        fixed_fee=fee,
        currency="USD",
        commission_bp=bp,
        commission_cap=cap,
        deliverables=[
            DeliverableTerm(
                kind=Deliverable.SHORT_VIDEO,
                platform=Platform.TIKTOK,
                count=2,
                due_by=date(2026, 12, 5),
            )
        ],
        expires_at=NOW + timedelta(days=2),
    )


def _open(proposer: Side, revision: int = 1) -> rules.OfferState:
    return rules.OfferState(
        status=OfferStatus.OPEN,
        latest_revision=revision,
        proposed_by=proposer,
        expires_at=NOW + timedelta(days=1),
    )


def test_closed_states_allow_nothing_and_open_allows_every_move() -> None:
    for status, targets in rules.ALLOWED.items():
        if status is OfferStatus.OPEN:
            assert {m.target for m in rules.MOVES.values()} <= targets
        else:
            assert targets == frozenset()


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("proposer", list(Side))
@pytest.mark.parametrize("actor", list(Side))
def test_only_the_responder_answers_and_only_the_proposer_withdraws(
    action: Action, proposer: Side, actor: Side
) -> None:
    reason = rules.refusal(action, _open(proposer), actor, 1, NOW)
    proposer_may = action is Action.WITHDRAW
    assert (reason == "") == ((actor == proposer) == proposer_may)


@given(
    actions=st.lists(
        st.tuples(
            st.sampled_from(list(Action)),
            st.sampled_from(list(Side)),
            st.integers(min_value=0, max_value=3),
        ),
        max_size=12,
    )
)
def test_any_sequence_of_clicks_keeps_the_machine_consistent(actions) -> None:
    """Replaying arbitrary clicks (action, side, how stale the named revision is) through the
    rules: a closed offer stays closed, revisions only grow and alternate between sides, and an
    accepted revision was always proposed by the other side."""
    state = _open(Side.MERCHANT)
    proposers = {1: Side.MERCHANT}
    for action, side, staleness in actions:
        named = state.latest_revision - staleness
        if rules.refusal(action, state, side, named, NOW):
            continue
        assert state.status is OfferStatus.OPEN and named == state.latest_revision
        target = rules.MOVES[action].target
        if action is Action.COUNTER:
            assert side != state.proposed_by
            proposers[named + 1] = side
            state = rules.OfferState(OfferStatus.OPEN, named + 1, side, state.expires_at)
        else:
            if action is Action.ACCEPT:
                assert proposers[named] != side
            state = rules.OfferState(target, named, state.proposed_by, state.expires_at)
    for number in range(2, state.latest_revision + 1):
        assert proposers[number] != proposers[number - 1]


def test_an_expired_or_stale_answer_is_refused() -> None:
    lapsed = rules.OfferState(OfferStatus.OPEN, 2, Side.KOL, NOW)
    assert "expired" in rules.refusal(Action.ACCEPT, lapsed, Side.MERCHANT, 2, NOW)
    assert "not the latest" in rules.refusal(
        Action.ACCEPT, _open(Side.KOL, 2), Side.MERCHANT, 1, NOW
    )


def test_counter_rounds_run_out() -> None:
    assert rules.counter_refusal(latest_revision=5, max_rounds=5) == ""
    assert "5 counter rounds" in rules.counter_refusal(latest_revision=6, max_rounds=5)
    assert rules.counter_refusal(latest_revision=1, max_rounds=0) != ""


@given(
    fee=st.integers(min_value=0, max_value=10**11),
    take=st.integers(min_value=0, max_value=10_000),
    bp=st.integers(min_value=0, max_value=10_000),
    cap=st.none() | st.integers(min_value=0, max_value=10**6),
)
def test_breakdown_lines_are_rounded_half_to_even_and_add_up(fee, take, bp, cap) -> None:
    terms = _terms(fee, bp, cap if bp else None)
    numbers = rules.breakdown(terms, FRAME, take, "card-1")
    # Python's round() of an exact Fraction rounds half to even: an independent oracle.
    assert numbers.platform_fee == round(Fraction(fee * take, 10_000))
    assert numbers.merchant_pays == fee + numbers.platform_fee
    amounts = {line.code: line.amount for line in numbers.lines}
    assert amounts["merchant_pays"] == amounts["creator_fee"] + amounts["platform_fee"]
    expected = round(Fraction(FRAME.average_order_value * terms.commission_bp, 10_000))
    if terms.commission_cap is not None:
        expected = min(expected, terms.commission_cap)
    assert numbers.commission_per_order == amounts["commission_per_conversion"] == expected
    assert all(line.formula and line.label for line in numbers.lines)


def test_a_half_minor_unit_rounds_to_even() -> None:
    assert rules.breakdown(_terms(62_345), FRAME, 1_000, "c").platform_fee == 6_234
    assert rules.breakdown(_terms(62_355), FRAME, 1_000, "c").platform_fee == 6_236


def test_terms_outside_the_brief_are_refused_naming_each_field() -> None:
    bad = msgspec.structs.replace(
        _terms(),
        currency="EUR",
        expires_at=NOW + timedelta(days=31),
        deliverables=[
            DeliverableTerm(kind=Deliverable.POST, platform=Platform.WEIBO, due_by=date(2027, 1, 2))
        ],
    )
    with pytest.raises(Invalid) as refused:
        rules.check_terms(bad, FRAME, NOW)
    assert [field for field, _ in refused.value.errors] == [
        "terms.currency",
        "terms.expires_at",
        "terms.deliverables[0].platform",
        "terms.deliverables[0].due_by",
    ]
    rules.check_terms(_terms(), FRAME, NOW)


def test_budget_room_counts_deals_and_the_merchants_open_offers() -> None:
    assert rules.budget_refusal(100, 40, 30, 30) == ""
    assert "remaining budget is 30" in rules.budget_refusal(100, 40, 30, 31)


def test_the_fingerprint_is_sha256_of_sorted_compact_json() -> None:
    ids = [uuid.uuid4() for _ in range(4)]
    acceptance = Acceptance(ids[0], 2, ids[1], ids[2], ids[3], Side.MERCHANT)
    terms = _terms(12_345, cap=500)
    frozen = frozen_terms(acceptance, terms, rules.breakdown(terms, FRAME, 1_000, "c"))
    document = json.loads(canonical_json(frozen))
    expected = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert canonical_json(frozen) == expected
    assert fingerprint(frozen) == hashlib.sha256(expected).hexdigest()
    changed = msgspec.structs.replace(frozen, fixed_fee=12_346)
    assert fingerprint(changed) != fingerprint(frozen)
