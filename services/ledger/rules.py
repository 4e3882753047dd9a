"""Pure rules of the ledger: what a balanced entry is, which balances may never go negative,
and the lines of each kind of money movement.

A line's amount is positive for a debit and negative for a credit. Accounts that hold money
for someone (escrow, a KOL's payable, platform revenue) are credit-normal: their balance is
minus the sum of their postings.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from contracts.ledger import AccountKind
from services.errors import Conflict

CREDIT_NORMAL = frozenset(
    {AccountKind.MERCHANT_ESCROW, AccountKind.KOL_PAYABLE, AccountKind.PLATFORM_REVENUE}
)
NEVER_NEGATIVE = frozenset({AccountKind.MERCHANT_ESCROW})


class Unbalanced(Conflict):
    """A movement of money that the ledger refuses."""


@dataclass(frozen=True, slots=True)
class Account:
    kind: AccountKind
    owner_id: UUID | None
    currency: str


@dataclass(frozen=True, slots=True)
class Line:
    account: Account
    amount: int  # + debit, - credit


def balance(kind: AccountKind, postings_sum: int) -> int:
    """The balance on the account's normal side."""
    return -postings_sum if kind in CREDIT_NORMAL else postings_sum


def check_entry(lines: Sequence[Line]) -> str:
    """The entry's one currency, if its lines balance; raises `Unbalanced` otherwise."""
    if len(lines) < 2:
        raise Unbalanced("a journal entry needs at least two postings")
    if any(line.amount == 0 for line in lines):
        raise Unbalanced("a posting moves a non-zero amount")
    currencies = {line.account.currency for line in lines}
    if len(currencies) != 1:
        raise Unbalanced("a journal entry moves one currency")
    total = sum(line.amount for line in lines)
    if total != 0:
        raise Unbalanced(f"a journal entry's postings sum to zero, not {total}")
    return currencies.pop()


def check_floors(sums_before: Mapping[Account, int], lines: Sequence[Line]) -> None:
    """Refuse an entry that would take an escrow account below zero."""
    after = dict(sums_before)
    for line in lines:
        after[line.account] = after.get(line.account, 0) + line.amount
    for account, total in after.items():
        if account.kind in NEVER_NEGATIVE and balance(account.kind, total) < 0:
            raise Unbalanced(f"{account.kind} would go negative ({balance(account.kind, total)})")


def escrow(deal_id: UUID, currency: str) -> Account:
    return Account(AccountKind.MERCHANT_ESCROW, deal_id, currency)


def payable(kol_id: UUID, currency: str) -> Account:
    return Account(AccountKind.KOL_PAYABLE, kol_id, currency)


def revenue(currency: str) -> Account:
    return Account(AccountKind.PLATFORM_REVENUE, None, currency)


def clearing(currency: str) -> Account:
    return Account(AccountKind.STRIPE_CLEARING, None, currency)


def funding(deal_id: UUID, currency: str, amount: int) -> list[Line]:
    """The merchant's payment arrives at Stripe and is held in the deal's escrow."""
    return [Line(clearing(currency), amount), Line(escrow(deal_id, currency), -amount)]


def release(
    deal_id: UUID, kol_id: UUID, currency: str, creator_fee: int, platform_fee: int
) -> list[Line]:
    """Escrow is released: the creator fee becomes the KOL's, the platform fee revenue."""
    lines = [Line(escrow(deal_id, currency), creator_fee + platform_fee)]
    lines.append(Line(payable(kol_id, currency), -creator_fee))
    if platform_fee:
        lines.append(Line(revenue(currency), -platform_fee))
    return lines


def payout(kol_id: UUID, currency: str, amount: int) -> list[Line]:
    """What a KOL is owed leaves our Stripe balance for their connected account."""
    return [Line(payable(kol_id, currency), amount), Line(clearing(currency), -amount)]


def refund(deal_id: UUID, currency: str, amount: int) -> list[Line]:
    """Escrow goes back to the merchant's card."""
    return [Line(escrow(deal_id, currency), amount), Line(clearing(currency), -amount)]


def receivable(merchant_id: UUID, currency: str) -> Account:
    return Account(AccountKind.MERCHANT_RECEIVABLE, merchant_id, currency)


def commission(
    merchant_id: UUID, kol_id: UUID, currency: str, amount: int, platform_cut: int
) -> list[Line]:
    """A commission accrues: the merchant owes it; the KOL earns it less the platform's cut."""
    lines = [Line(receivable(merchant_id, currency), amount)]
    if amount - platform_cut:
        lines.append(Line(payable(kol_id, currency), platform_cut - amount))
    if platform_cut:
        lines.append(Line(revenue(currency), -platform_cut))
    return lines


def settlement(merchant_id: UUID, currency: str, amount: int) -> list[Line]:
    """The merchant's charge for accrued commissions arrives at Stripe."""
    return [Line(clearing(currency), amount), Line(receivable(merchant_id, currency), -amount)]


def clawback(deal_id: UUID, kol_id: UUID, currency: str, amount: int) -> list[Line]:
    """A dispute takes back part of a released creator fee not yet paid out: what the KOL is
    owed returns to the deal's escrow, from where it is refunded to the merchant."""
    return [Line(payable(kol_id, currency), amount), Line(escrow(deal_id, currency), -amount)]
