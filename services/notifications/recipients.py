"""Who receives an intent: the KOL's user, the merchant's members (all, or owners only) or
every operator, each with the language and email preferences that shape what they get.

Read in one query per audience for a whole batch of intents. Disabled users receive nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from services.notifications import queries, rules
from services.notifications.rules import Audience, Intent, Recipient


@dataclass
class People:
    kols: dict[UUID, Recipient] = field(default_factory=dict)
    members: dict[UUID, list[tuple[str, Recipient]]] = field(default_factory=dict)
    operators: list[Recipient] = field(default_factory=list)

    def of(self, intent: Intent) -> list[Recipient]:
        """The recipients of `intent`."""
        if intent.audience is Audience.KOL:
            kol = self.kols.get(intent.kol_id) if intent.kol_id else None
            return [kol] if kol is not None else []
        if intent.audience is Audience.OPERATORS:
            return list(self.operators)
        members = self.members.get(intent.merchant_id, []) if intent.merchant_id else []
        owners_only = intent.audience is Audience.OWNERS
        return [person for role, person in members if role == "owner" or not owners_only]


def _recipient(row: asyncpg.Record, side: str, tags: Sequence[str] = ()) -> Recipient:
    return Recipient(
        user_id=row["user_id"], email=row["email"], side=side,
        language=rules.language_of(tags, row["language"]),
        email_off=frozenset(row["email_off"]), daily_digest=row["daily_digest"],
        merchant_id=row.get("merchant_id"), kol_id=row.get("kol_id"),
    )  # fmt: skip


async def resolve(conn: asyncpg.Connection, intents: Sequence[Intent]) -> People:
    """Everyone the intents may go to, read once for the batch."""
    people = People()
    kol_ids = {i.kol_id for i in intents if i.audience is Audience.KOL and i.kol_id}
    merchant_ids = {
        i.merchant_id
        for i in intents
        if i.audience in (Audience.MEMBERS, Audience.OWNERS) and i.merchant_id
    }
    if kol_ids:
        for row in await conn.fetch(queries.KOL_RECIPIENTS, list(kol_ids)):
            people.kols[row["kol_id"]] = _recipient(row, "kol", row["languages"])
    if merchant_ids:
        for row in await conn.fetch(queries.MEMBER_RECIPIENTS, list(merchant_ids)):
            people.members.setdefault(row["merchant_id"], []).append(
                (row["role"], _recipient(row, "merchant"))
            )
    if any(i.audience is Audience.OPERATORS for i in intents):
        people.operators = [
            _recipient(row, "operator") for row in await conn.fetch(queries.OPERATOR_RECIPIENTS)
        ]
    return people
