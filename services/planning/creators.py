"""The creators a derived selection chose: pages of them with their quotes line by line (quoted
again, exactly, from the plan's card and the metrics it priced), and the proposals negotiation
turns into invitations (quoted now, with the current card and the accounts' current metrics).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
import msgspec

from contracts.briefs import BriefOut
from contracts.common import Deliverable, Platform
from contracts.plan_requests import RefusalReason
from contracts.plans import (
    Derivation,
    PlanKind,
    PlanState,
    SelectedCreator,
    SelectedCreatorPage,
)
from contracts.pricing import AccountMetrics, Quote, RateCard
from pricing import QuoteRefused
from services.actors import Caller
from services.errors import Conflict, Invalid
from services.planning import derivation, derive, plans, queries
from services.planning.derivation import StoredCreator
from services.planning.ratecards import current_rate_card, rate_card

# A page of a plan's creators continues after a place in the plan's order: its number.
CURSOR_PATTERN = r"^[0-9]{1,9}$"


def _cursor(position: int) -> str:
    return str(position)


def _after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 9:
        raise Invalid("cursor", "cursor is not one this API returned")
    return int(cursor)


async def page(
    conn: asyncpg.Connection, caller: Caller, plan_id: UUID, limit: int, cursor: str | None
) -> SelectedCreatorPage:
    """The chosen creators in the plan's order, each with its quotes."""
    row = await plans.find(conn, caller, plan_id)
    if row["derivation"] is None or row["rate_card_version"] is None:
        raise Conflict("only a selection derived from the catalog names its creators")
    found = msgspec.convert(row["derivation"], Derivation)
    card = await rate_card(conn, row["rate_card_version"])
    assert card is not None  # cards are never deleted
    scope = derive.pricing_scope(found)
    rows = await conn.fetch(queries.ITEMS_PAGE, plan_id, _after(cursor), limit + 1)
    items = []
    for r in rows[:limit]:
        made = msgspec.convert(r["item"], StoredCreator)
        quoted = derivation.quotes(card, scope, derivation.metrics_of(made))
        items.append(_selected(r["position"], made, card, quoted))
    more = len(rows) > limit
    return SelectedCreatorPage(
        items=items, next_cursor=_cursor(rows[limit - 1]["position"]) if more else None
    )


def _selected(
    position: int, made: StoredCreator, card: RateCard, quoted: list[Quote]
) -> SelectedCreator:
    return SelectedCreator(
        position=position,
        kol_id=made.kol_id,
        account_id=made.account_id,
        handle=made.handle,
        platform=made.platform,
        tier=made.tier,
        followers=made.followers,
        authenticity=made.authenticity,
        currency=card.currency,
        rate_card_version=card.version,
        fixed_fee=made.fixed_fee,
        platform_fee=made.platform_fee,
        merchant_pays=made.merchant_pays,
        expected_commission=made.expected_commission,
        cost=made.cost,
        expected_reach=made.expected_reach,
        expected_conversions=made.expected_conversions,
        quotes=quoted,
    )


@dataclass(frozen=True, slots=True)
class Proposal:
    """The terms one KOL of a plan would be invited with, or why it cannot be."""

    kol_id: UUID
    account_ids: list[UUID]
    deliverables: list[tuple[Deliverable, Platform]] = field(default_factory=list)
    fixed_fee: int | None = None
    refusal: RefusalReason | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Proposals:
    brief: BriefOut
    items: list[Proposal]


async def proposals(
    conn: asyncpg.Connection, caller: Caller, plan_id: UUID, kol_ids: list[UUID] | None
) -> Proposals:
    """One proposal per KOL the solved selection chose (or per KOL asked for), in the plan's
    order: one of each of the brief's deliverables on each of its chosen accounts' platforms,
    for the creator fees the current card quotes for the accounts' current metrics."""
    row = await plans.find(conn, caller, plan_id)
    solved = row["kind"] == PlanKind.SELECTION and row["status"] == PlanState.SOLVED
    if not solved or not row["has_items"] or row["brief_id"] is None:
        raise Conflict("invitations come from a solved selection of a brief's catalog")
    assert caller.merchant_id is not None
    brief = await derive.brief_of(conn, caller.merchant_id, row["brief_id"])
    items = await conn.fetch(queries.ITEMS_OF_KOLS, plan_id, kol_ids or [])
    chosen: dict[UUID, list[UUID]] = defaultdict(list)
    for item in items:
        chosen[item["kol_id"]].append(UUID(item["item"]["account_id"]))
    accounts = {
        r["id"]: r
        for r in await conn.fetch(
            queries.ACCOUNTS_BY_ID, [a for ids in chosen.values() for a in ids]
        )
    }
    card = await current_rate_card(conn)
    scope = derive.pricing_of_brief(brief)
    made = [_proposal(card, scope, kol, ids, accounts) for kol, ids in chosen.items()]
    missing = [k for k in dict.fromkeys(kol_ids or []) if k not in chosen]
    made += [
        Proposal(kol_id=k, account_ids=[], refusal=RefusalReason.NOT_IN_PLAN,
                 detail="the plan did not choose this KOL")
        for k in missing
    ]  # fmt: skip
    return Proposals(brief=brief, items=made)


def _proposal(
    card: RateCard,
    scope: derivation.Scope,
    kol_id: UUID,
    account_ids: list[UUID],
    accounts: dict[UUID, asyncpg.Record],
) -> Proposal:
    fixed, deliverables = 0, []
    for account_id in account_ids:
        row = accounts.get(account_id)
        if row is None or row["kol_id"] != kol_id:
            return Proposal(kol_id=kol_id, account_ids=account_ids,
                            refusal=RefusalReason.NOT_QUOTED,
                            detail=f"account {account_id} is no longer listed")  # fmt: skip
        metrics: AccountMetrics = derivation.metrics(row)
        try:
            fixed += derivation.offer(card, scope, metrics).fixed_fee
        except QuoteRefused as refused:
            return Proposal(kol_id=kol_id, account_ids=account_ids,
                            refusal=RefusalReason.NOT_QUOTED, detail=refused.message)  # fmt: skip
        deliverables += [(kind, Platform(row["platform"])) for kind in scope.deliverables]
    return Proposal(
        kol_id=kol_id, account_ids=account_ids, deliverables=deliverables, fixed_fee=fixed
    )
