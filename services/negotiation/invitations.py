"""Invitations from a plan: one offer per KOL a solved selection chose, in one transaction.

Each KOL's terms come from its quote (one of each of the brief's deliverables on each chosen
account's platform, due by the end of the posting window, for the creator fee the current
card quotes now) and from the brief (its currency and commission). Offers open in the plan's
order, each under the brief's budget rule, so once the budget is committed the rest are
refused. A KOL that cannot be invited (an open offer already, a payout account not ready when
the brief requires one, the budget spent, no quote) is reported on its own line; the others
are invited all the same.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.briefs import BriefOut
from contracts.offers import InviteIn, OfferOrigin
from contracts.plan_requests import (
    InvitationResult,
    InvitationStatus,
    PlanInvitationsIn,
    PlanInvitationsOut,
    RefusalReason,
)
from services.actors import Caller
from services.briefs import service as briefs
from services.errors import Conflict, Invalid
from services.idempotency import idempotent
from services.negotiation import queries, rules, service
from services.planning import creators
from services.planning.creators import Proposal

log = structlog.get_logger(__name__)


@idempotent
async def invite_from_plan(
    conn: asyncpg.Connection, caller: Caller, plan_id: UUID, data: PlanInvitationsIn
) -> PlanInvitationsOut:
    """Invite the plan's creators (or the KOLs named) to its brief; refusals item by item."""
    found = await creators.proposals(conn, caller, plan_id, data.kol_ids)
    brief = await briefs.lock_for_merchant(conn, caller.merchant_id, found.brief.id)
    if reason := service.opening_refusal(OfferOrigin.INVITATION, brief):
        raise Conflict(reason)
    expires_at = datetime.now(UTC) + timedelta(days=data.expires_in_days)
    results = [
        await _invite(conn, caller, brief, found.brief, p, data.message, expires_at)
        for p in found.items
    ]
    invited = sum(r.status is InvitationStatus.INVITED for r in results)
    log.info("plan_invitations", plan_id=str(plan_id), invited=invited, asked=len(results))
    return PlanInvitationsOut(
        plan_id=plan_id,
        brief_id=found.brief.id,
        invited=invited,
        refused=len(results) - invited,
        items=results,
    )


async def _invite(
    conn: asyncpg.Connection,
    caller: Caller,
    brief: asyncpg.Record,
    spec: BriefOut,
    proposal: Proposal,
    message: str,
    expires_at: datetime,
) -> InvitationResult:
    """One KOL: refused for what it is (no quote, an open offer, no ready payout account),
    or its offer opened under the brief's budget rule."""
    if proposal.refusal is not None or proposal.fixed_fee is None:
        return _refused(proposal, proposal.refusal or RefusalReason.NOT_QUOTED, proposal.detail)
    if await conn.fetchval(queries.OPEN_OFFER_OF, brief["id"], proposal.kol_id):
        return _refused(proposal, RefusalReason.OPEN_OFFER, "the KOL already has an open offer")
    ready = await conn.fetchval(queries.PAYOUT_READY, proposal.kol_id)
    if reason := rules.payout_refusal(brief["payout_ready_required"], ready):
        return _refused(proposal, RefusalReason.PAYOUT_NOT_READY, reason)
    try:
        invite = msgspec.convert(_invitation(proposal, spec, message, expires_at), InviteIn)
    except msgspec.ValidationError as error:
        return _refused(proposal, RefusalReason.INVALID_TERMS, str(error))
    return await _open(conn, caller, brief, proposal, invite)


async def _open(
    conn: asyncpg.Connection,
    caller: Caller,
    brief: asyncpg.Record,
    proposal: Proposal,
    invite: InviteIn,
) -> InvitationResult:
    """Open the offer under a savepoint, so that a refusal leaves the others standing."""
    try:
        async with conn.transaction():
            offer = await service.open_offer(
                conn, caller, brief, proposal.kol_id, OfferOrigin.INVITATION, invite
            )
    except Invalid as error:
        field, detail = error.errors[0]
        why = (
            RefusalReason.OVER_BUDGET if field == "terms.fixed_fee" else RefusalReason.INVALID_TERMS
        )
        return _refused(proposal, why, detail)
    except Conflict as error:
        return _refused(proposal, RefusalReason.OPEN_OFFER, error.detail)
    return InvitationResult(
        kol_id=proposal.kol_id,
        account_ids=proposal.account_ids,
        status=InvitationStatus.INVITED,
        offer_id=offer.id,
        fixed_fee=proposal.fixed_fee,
        merchant_pays=offer.revisions[-1].breakdown.merchant_pays,
        reason=None,
        detail="",
    )


def _invitation(
    proposal: Proposal, brief: BriefOut, message: str, expires_at: datetime
) -> dict[str, Any]:
    due = brief.timeline.posting_until.isoformat()
    return {
        "kol_id": str(proposal.kol_id),
        "message": message,
        "terms": {
            "fixed_fee": proposal.fixed_fee,
            "currency": brief.currency,
            "commission_bp": brief.commission.commission_bp,
            "deliverables": [
                {"kind": kind, "platform": platform, "count": 1, "due_by": due}
                for kind, platform in proposal.deliverables
            ],
            "expires_at": expires_at.isoformat(),
        },
    }


def _refused(proposal: Proposal, reason: RefusalReason, detail: str) -> InvitationResult:
    return InvitationResult(
        kol_id=proposal.kol_id,
        account_ids=proposal.account_ids,
        status=InvitationStatus.REFUSED,
        offer_id=None,
        fixed_fee=proposal.fixed_fee,
        merchant_pays=None,
        reason=reason,
        detail=detail,
    )
