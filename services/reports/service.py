"""Use case of reports: a brief's campaign report for its merchant, read in one snapshot."""

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from contracts.deals import DealStatus
from contracts.reports import BriefReport, DealReport
from services.errors import NotFound
from services.reports import queries, rules


async def brief_report(conn: asyncpg.Connection, merchant_id: UUID, brief_id: UUID) -> BriefReport:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        brief = await conn.fetchrow(queries.BRIEF, brief_id, merchant_id)
        if brief is None:
            raise NotFound("brief", brief_id)
        rows = await conn.fetch(queries.DEALS, brief_id, merchant_id)
        repeat_buyers = await conn.fetchval(queries.REPEAT_BUYERS, brief_id, merchant_id)
        plan = await conn.fetchrow(queries.PLAN, brief_id, merchant_id)
    total = rules.total(rows, repeat_buyers)
    goals = {"reach": brief["goal_reach"], "conversions": brief["goal_conversions"]}
    return BriefReport(
        brief_id=brief_id,
        title=brief["title"],
        currency=brief["currency"],
        generated_at=datetime.now(UTC),
        plan_id=plan["id"] if plan else None,
        total=total,
        deals=[
            DealReport(
                deal_id=row["deal_id"],
                kol_id=row["kol_id"],
                status=DealStatus(row["status"]),
                figures=rules.figures(row),
            )
            for row in rows
        ],
        against_plan=rules.against_plan(total, goals, plan),
        against_plan_by_segment=rules.against_segments(rows, plan),
        funnel=rules.funnel(total),
    )
