"""The examples of the OpenAPI document (`contracts/examples.py`): every request body has one,
each is exactly what its struct decodes, each passes its schema in the committed document, and
the requests pass the service's own rules at their moment of the examples' story."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from contracts import examples as ex
from contracts.examples import EXAMPLES, at
from contracts.planning import AllocationPlan, SelectionPlan
from contracts.pricing import QuoteRequest
from pricing import allocate, select
from pricing.quotes import quote
from pricing.ratecard import check_rate_card
from services.accounts.rules import check_password
from services.briefs.rules import check_brief, check_publishable
from services.catalog import rules as catalog
from services.deals.rules import fingerprint
from services.delivery import rules as delivery
from services.disputes import rules as disputes
from services.negotiation import rules as negotiation
from services.payments.rules import plan_refund
from services.tracking import rules as tracking
from services.webhooks.rules import parse_url

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
SCHEMAS = DOCUMENT["components"]["schemas"]
NAMES = sorted(EXAMPLES, key=lambda struct: struct.__name__)


def _refs(node: Any) -> set[str]:
    """The component names a part of the document refers to."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def _validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator of the committed component `name`, its references resolved within the
    document's components."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_every_request_body_has_an_example() -> None:
    bodies = set().union(
        *(
            _refs(operation["requestBody"])
            for item in DOCUMENT["paths"].values()
            for operation in item.values()
            if isinstance(operation, dict) and "requestBody" in operation
        )
    )
    assert bodies
    missing = sorted(name for name in bodies if not SCHEMAS[name].get("examples"))
    assert not missing, f"request bodies without an example: {missing}"
    strict = [
        name for name, schema in SCHEMAS.items() if schema.get("additionalProperties") is False
    ]
    assert not [name for name in strict if not SCHEMAS[name].get("examples")]


@pytest.mark.parametrize("struct", NAMES, ids=lambda struct: struct.__name__)
def test_example_round_trips_strictly(struct: type[msgspec.Struct]) -> None:
    example = EXAMPLES[struct]
    assert type(example) is struct
    decoded = msgspec.json.decode(msgspec.json.encode(example), type=struct, strict=True)
    assert decoded == example


@pytest.mark.parametrize("struct", NAMES, ids=lambda struct: struct.__name__)
def test_example_is_in_the_document_and_valid_by_its_schema(struct: type[msgspec.Struct]) -> None:
    name = struct.__name__
    shown = msgspec.to_builtins(EXAMPLES[struct])
    assert SCHEMAS[name]["examples"] == [shown]
    _validator(name).validate(shown)


def test_a_broken_example_is_caught() -> None:
    register = msgspec.to_builtins(ex.REGISTER)
    for name, broken in (
        ("RegisterIn", {**register, "role": "operator"}),
        ("RegisterIn", {**register, "nickname": "mei"}),
        ("ConversionIn", {**msgspec.to_builtins(ex.CONVERSION), "amount": "7600"}),
        ("BriefIn", {**msgspec.to_builtins(ex.BRIEF), "timeline": {"apply_by": "2027-01-22"}}),
    ):
        with pytest.raises(jsonschema.ValidationError):
            _validator(name).validate(broken)
    wrong = msgspec.structs.replace(ex.CONVERSION, amount="7600")  # type: ignore[arg-type]
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(wrong), type=type(wrong), strict=True)


def test_requests_pass_the_service_rules() -> None:
    check_password(ex.REGISTER.password, ex.REGISTER.email)
    check_brief(ex.BRIEF)
    check_publishable(ex.BRIEF, at("2027-01-05", "01:00:00"))
    brief = negotiation.BriefFrame(
        currency=ex.BRIEF.currency,
        platforms=frozenset(ex.BRIEF.platforms),
        posting_from=ex.TIMELINE.posting_from,
        posting_until=ex.TIMELINE.posting_until,
        average_order_value=ex.PRODUCT.average_order_value,
        attribution_days=ex.COMMISSION.attribution_days,
    )
    for terms, now in (
        (ex.INVITE.terms, at("2027-01-06", "03:20:00")),
        (ex.APPLICATION.terms, at("2027-01-06", "09:00:00")),
        (ex.COUNTER.terms, at("2027-01-07", "10:05:00")),
    ):
        negotiation.check_terms(terms, brief, now)
        numbers = negotiation.breakdown(
            terms, brief, ex.RATE_CARD.take_rate_bp, ex.RATE_CARD.version
        )
        assert not negotiation.budget_refusal(ex.BRIEF.budget, 0, 0, numbers.merchant_pays)
    assert [r.breakdown for r in ex.OFFER_OUT.revisions] == [
        negotiation.breakdown(r.terms, brief, 1_000, ex.RATE_CARD_VERSION)
        for r in ex.OFFER_OUT.revisions
    ]
    assert ex.DEAL_OUT.terms_sha256 == fingerprint(ex.DEAL_OUT.terms)
    check_rate_card(ex.RATE_CARD)
    request = QuoteRequest(
        account=ex.ACCOUNT_METRICS,
        deliverable=ex.QUOTE_IN.deliverable,
        product=ex.PRODUCT_TERMS,
        currency=ex.BRIEF.currency,
    )
    assert quote(request, ex.RATE_CARD) == ex.QUOTE
    assert (ex.QUOTE_IN.account_id is None) != (ex.QUOTE_IN.account is None)
    assert ex.QUOTE_IN.brief_id is None or ex.QUOTE_IN.product is None
    assert isinstance(allocate(ex.ALLOCATION), AllocationPlan)
    assert isinstance(select(ex.SELECTION), SelectionPlan)
    catalog.check_profile(ex.PROFILE)
    catalog.check_account(ex.ACCOUNT.platform, ex.ACCOUNT.profile_url, ex.METRICS.audience)
    catalog.check_patch(ex.ACCOUNT_PATCH)
    metrics = ex.ACCOUNT_METRICS
    reference = catalog.reference_price(
        ex.RATE_CARD, metrics.platform, metrics.followers, metrics.median_views,
        metrics.engagement_rate, metrics.authenticity,
    )  # fmt: skip
    assert ex.ACCOUNT_OUT.reference_price == reference
    deliverable = delivery.deliverable_of(ex.DEAL_OUT.terms.deliverables, ex.SUBMISSION.deliverable)
    delivery.check_url(deliverable.platform, ex.SUBMISSION.url)
    delivery.check_posted_at(ex.SUBMISSION.posted_at, at("2027-02-10", "12:02:00"))
    assert ex.REVIEW.reason is not None
    posted = ex.SUBMISSION.posted_at
    disputes.check_observed_at(ex.TAKEDOWN.observed_at, posted, at("2027-02-24", "09:20:00"))
    disputes.check_taken_down_early(posted, ex.TAKEDOWN.observed_at, ex.DELIVERY.min_live_days)
    deal = ex.DEAL_OUT.terms
    # The dispute's deal was approved: escrow released, the KOL's payout unpaid (paused).
    assert ex.RESOLVE.refund_amount is not None
    plan_refund(ex.RESOLVE.refund_amount, 0, deal.fixed_fee, True, deal.platform_fee)
    commission = tracking.commission(ex.CONVERSION.amount, deal.commission_bp, deal.commission_cap)
    assert ex.CONVERSION_OUT.commission == commission
    assert ex.CONVERSION_OUT.platform_cut == tracking.platform_cut(commission, 1_000)
    parse_url(ex.WEBHOOK_ENDPOINT.url, allow_local=False)
