"""Pure rules of briefs: their states and transitions, and what a valid brief is."""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import msgspec

from contracts.briefs import BriefIn, BriefPatch, BriefStatus
from contracts.common import SUPPORTED_CURRENCIES
from contracts.events import BriefCancelled, BriefClosed, BriefPublished
from services.errors import Conflict, Invalid

ALLOWED: dict[BriefStatus, frozenset[BriefStatus]] = {
    BriefStatus.DRAFT: frozenset({BriefStatus.OPEN, BriefStatus.CANCELLED}),
    BriefStatus.OPEN: frozenset({BriefStatus.CLOSED, BriefStatus.CANCELLED}),
    BriefStatus.CLOSED: frozenset({BriefStatus.CANCELLED}),
    BriefStatus.CANCELLED: frozenset(),
}
# The status each event of a brief's lifecycle tells of.
BriefEvent = BriefPublished | BriefClosed | BriefCancelled
STATUS_AFTER: dict[type[BriefEvent], BriefStatus] = {
    BriefPublished: BriefStatus.OPEN,
    BriefClosed: BriefStatus.CLOSED,
    BriefCancelled: BriefStatus.CANCELLED,
}
# What an open brief may still change: its budget, upwards only. Everything else, the
# delivery policy included, stays as the KOLs who applied read it.
EDITABLE_WHILE_OPEN = frozenset({"budget"})


class BudgetUse(NamedTuple):
    """What a brief's budget holds: deals that stand, and offers the merchant proposed."""

    committed: int
    reserved: int


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str


def check_transition(current: BriefStatus, target: BriefStatus) -> None:
    if target not in ALLOWED[current]:
        raise Conflict(f"a {current} brief cannot become {target}")


def problems(brief: BriefIn) -> list[Problem]:
    """Everything wrong with `brief` beyond the bounds its types carry."""
    found: list[Problem] = []
    if brief.currency not in SUPPORTED_CURRENCIES:
        found.append(Problem("currency", f"{brief.currency} is not a supported currency"))
    for name in ("platforms", "tiers", "deliverables"):
        values = getattr(brief, name)
        if len(set(values)) != len(values):
            found.append(Problem(name, f"{name} must not repeat a value"))
    regions = brief.targeting.regions
    if len(set(regions)) != len(regions):
        found.append(Problem("targeting.regions", "regions must not repeat a value"))
    timeline = brief.timeline
    if timeline.posting_until < timeline.posting_from:
        found.append(
            Problem("timeline.posting_until", "posting_until must not be before posting_from")
        )
    elif timeline.apply_by.date() > timeline.posting_until:
        found.append(
            Problem("timeline.apply_by", "apply_by must not be after the posting window ends")
        )
    return found


def check_brief(brief: BriefIn) -> None:
    found = problems(brief)
    if found:
        first, *rest = found
        raise Invalid(first.field, first.message, more=[(p.field, p.message) for p in rest])


def check_publishable(brief: BriefIn, now: datetime) -> None:
    check_brief(brief)
    # The brief as stored stands in the way: a conflict with its state, not a bad request.
    if brief.budget <= 0:
        raise Conflict("budget must be more than 0 to publish", field="budget")
    if brief.timeline.apply_by <= now:
        raise Conflict("apply_by must be in the future to publish", field="timeline.apply_by")


def patched(current: BriefIn, patch: BriefPatch, status: BriefStatus) -> BriefIn:
    """`current` with the patch applied, if the brief's status allows that change."""
    changes = {
        name: value
        for name in patch.__struct_fields__
        if (value := getattr(patch, name)) is not None
    }
    if status == BriefStatus.DRAFT:
        updated = msgspec.structs.replace(current, **changes)
        check_brief(updated)
        return updated
    if status != BriefStatus.OPEN:
        raise Conflict(f"a {status} brief cannot change")
    locked = sorted(set(changes) - EDITABLE_WHILE_OPEN)
    if locked:
        names = ", ".join(locked)
        raise Conflict(f"an open brief may only raise its budget; cannot change {names}")
    budget = changes.get("budget", current.budget)
    if budget < current.budget:
        raise Invalid("budget", f"an open brief's budget may only be raised (now {current.budget})")
    return msgspec.structs.replace(current, budget=budget)
