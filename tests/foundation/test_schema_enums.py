"""Every CHECK that lists a column's allowed values allows exactly the values of its contract enum.

The migrated database is read back from `pg_constraint`, so a value added to an enum without a
migration (or to a migration without the enum) fails here, not on a customer's write. Every
such CHECK needs an entry below, and every column named like a lifecycle state needs a CHECK.
"""

import enum
import re

import asyncpg

from contracts.accounts import AccountRole, MemberRole
from contracts.briefs import BriefStatus, Visibility
from contracts.common import Deliverable, Platform, Tier
from contracts.deals import DealStatus
from contracts.delivery import SubmissionStatus
from contracts.disputes import DisputeKind, DisputeOpener, DisputeOutcome, DisputeStatus
from contracts.ledger import AccountKind, EntryKind
from contracts.notifications import EmailStatus, Language, MailRoute, NotificationKind, ReminderKind
from contracts.offers import OfferOrigin, OfferStatus, Side
from contracts.payments import (
    FundingStatus,
    OperationKind,
    OperationStatus,
    PayoutStatus,
    SettlementStatus,
)
from contracts.plans import PlanKind, PlanState, PlanStopReason
from contracts.tracking import ConversionStatus
from contracts.webhooks import DeliveryStatus, DisabledReason

ENUM_OF: dict[tuple[str, str], type[enum.StrEnum]] = {
    ("briefs", "status"): BriefStatus,
    ("briefs", "visibility"): Visibility,
    ("briefs", "platforms"): Platform,
    ("briefs", "tiers"): Tier,
    ("briefs", "deliverables"): Deliverable,
    ("offers", "status"): OfferStatus,
    ("offers", "origin"): OfferOrigin,
    ("offers", "proposed_by"): Side,
    ("offer_revisions", "proposed_by"): Side,
    ("deals", "status"): DealStatus,
    ("deal_fundings", "status"): FundingStatus,
    ("payment_operations", "kind"): OperationKind,
    ("payment_operations", "status"): OperationStatus,
    ("payouts", "status"): PayoutStatus,
    ("commission_settlements", "status"): SettlementStatus,
    ("submissions", "status"): SubmissionStatus,
    ("conversions", "status"): ConversionStatus,
    ("disputes", "status"): DisputeStatus,
    ("disputes", "kind"): DisputeKind,
    ("disputes", "opened_by"): DisputeOpener,
    ("disputes", "outcome"): DisputeOutcome,
    ("ledger_accounts", "kind"): AccountKind,
    ("journal_entries", "kind"): EntryKind,
    ("plans", "status"): PlanState,
    ("plans", "kind"): PlanKind,
    ("plans", "stop_reason"): PlanStopReason,
    ("users", "role"): AccountRole,
    ("merchant_members", "role"): MemberRole,
    ("member_invitations", "role"): MemberRole,
    ("kol_accounts", "platform"): Platform,
    ("kol_accounts", "tier"): Tier,
    ("webhook_deliveries", "status"): DeliveryStatus,
    ("webhook_endpoints", "disabled_reason"): DisabledReason,
    ("notifications", "kind"): NotificationKind,
    ("notifications", "language"): Language,
    ("notifications", "mail"): MailRoute,
    ("notification_preferences", "email_off"): NotificationKind,
    ("notification_preferences", "language"): Language,
    ("notification_emails", "status"): EmailStatus,
    ("notification_reminders", "kind"): ReminderKind,
}
# Value lists with no enum in the contracts: the values are read back as plain strings.
WITHOUT_ENUM: dict[tuple[str, str], frozenset[str]] = {
    ("refunds", "reason"): frozenset({"cancelled", "dispute"}),  # RefundOut.reason is a str
}
STATE_LIKE = ("status", "kind", "outcome", "origin", "proposed_by", "role")

# Single-column CHECKs, as PostgreSQL prints them back.
CHECKS = """
    SELECT c.conrelid::regclass::text AS table_name, a.attname AS column_name, c.conname,
           pg_get_constraintdef(c.oid) AS definition
    FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'c' AND n.nspname = 'public' AND cardinality(c.conkey) = 1
      AND c.conrelid::regclass::text NOT LIKE 'procrastinate%'
"""
# Columns of the product's tables named like a lifecycle state, with or without a CHECK.
STATE_COLUMNS = """
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name NOT LIKE 'procrastinate%'
      AND column_name = any($1::text[])
"""
LISTS_VALUES = re.compile(r"= ANY \(ARRAY\[|<@ ARRAY\[|= '[^']*'::text")
VALUE_LIST = re.compile(
    r"CHECK \(\((?P<column>\w+) (?:= ANY \(ARRAY\[(?P<any>[^\]]*)\]\)|<@ ARRAY\[(?P<array>[^\]]*)\]"
    r"|= (?P<one>'[^']*'::text))\)\)"
)
LITERAL = re.compile(r"'([^']*)'::text")


def allowed_values(definition: str) -> frozenset[str] | None:
    """The values a CHECK lists (`IN (...)`, `= '...'`, `<@ ARRAY[...]`); None for other CHECKs."""
    if not LISTS_VALUES.search(definition):
        return None
    parsed = VALUE_LIST.fullmatch(definition)
    assert parsed is not None, f"a value list this test cannot read: {definition}"
    listed = parsed["any"] or parsed["array"] or parsed["one"]
    return frozenset(LITERAL.findall(listed))


def test_reading_a_check_finds_its_listed_values() -> None:
    listed = "CHECK ((status = ANY (ARRAY['open'::text, 'resolved'::text])))"
    assert allowed_values(listed) == {"open", "resolved"}
    assert allowed_values("CHECK ((kind = 'takedown'::text))") == {"takedown"}
    assert allowed_values("CHECK ((tiers <@ ARRAY['nano'::text, 'mega'::text]))") == {
        "nano",
        "mega",
    }
    assert allowed_values("CHECK ((currency ~ '^[A-Z]{3}$'::text))") is None
    assert allowed_values("CHECK ((amount > 0))") is None


async def _value_checks(db: asyncpg.Connection) -> dict[tuple[str, str], frozenset[str]]:
    found: dict[tuple[str, str], frozenset[str]] = {}
    for row in await db.fetch(CHECKS):
        values = allowed_values(row["definition"])
        if values is not None:
            key = (row["table_name"], row["column_name"])
            assert key not in found, f"{key} has two value lists"
            found[key] = values
    return found


async def test_every_value_check_allows_exactly_its_contract_enum(db: asyncpg.Connection) -> None:
    checks = await _value_checks(db)

    unmapped = sorted(set(checks) - set(ENUM_OF) - set(WITHOUT_ENUM))
    assert not unmapped, f"CHECKs listing values with no enum mapped in this test: {unmapped}"
    stale = sorted((set(ENUM_OF) | set(WITHOUT_ENUM)) - set(checks))
    assert not stale, f"mapped columns without a CHECK listing their values: {stale}"
    disagreeing = {
        f"{table}.{column}": {
            "only_in_check": sorted(checks[table, column] - {m.value for m in enum_}),
            "only_in_enum": sorted({m.value for m in enum_} - checks[table, column]),
        }
        for (table, column), enum_ in ENUM_OF.items()
        if checks[table, column] != {m.value for m in enum_}
    }
    assert not disagreeing, disagreeing
    for key, values in WITHOUT_ENUM.items():
        assert checks[key] == values, key


async def test_every_state_like_column_has_a_check_of_its_values(db: asyncpg.Connection) -> None:
    checks = await _value_checks(db)
    columns = {
        (r["table_name"], r["column_name"]) for r in await db.fetch(STATE_COLUMNS, STATE_LIKE)
    }
    assert columns, "the query finds the state columns"
    assert sorted(columns - set(checks)) == []
