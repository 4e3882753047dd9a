"""`kolmarket plan allocate|select PROBLEM.json`: plan a campaign from a problem file.

Prints the plan as JSON (or a table) on standard output and exits 0; an infeasible problem
prints its diagnosis and exits 3; a malformed file exits 2 with a message naming the field.
Progress goes to standard error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
import msgspec

from contracts.common import MINOR_UNIT_DIGITS
from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Diagnosis,
    SelectionPlan,
    SelectionProblem,
)
from pricing import PricingError, allocate, decode_json, select

EXIT_MALFORMED = 2
EXIT_INFEASIBLE = 3
T = TypeVar("T")
Plan = AllocationPlan | SelectionPlan | Diagnosis

FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="JSON for machines, a table for people.",
)
PROBLEM = click.argument(
    "problem_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)


@click.group("plan")
def plan() -> None:
    """Plan a campaign: spread a budget over tiers, or choose creators."""


def _progress() -> Callable[[str], None]:
    start = time.perf_counter()

    def log(message: str) -> None:
        click.echo(f"[{time.perf_counter() - start:7.3f}s] {message}", err=True)

    return log


def _load(path: Path, type_: type[T]) -> T:
    try:
        return decode_json(path.read_bytes(), type_)
    except PricingError as error:
        _fail(error)


def _fail(error: PricingError) -> None:
    where = f"{error.field}: " if error.field else ""
    click.echo(f"error: {where}{error.message}", err=True)
    sys.exit(EXIT_MALFORMED)


def _emit(result: Plan, output_format: str, currency: str | None) -> None:
    if output_format == "json":
        click.echo(msgspec.json.encode(result).decode())
    elif isinstance(result, Diagnosis):
        click.echo(_diagnosis_table(result))
    elif isinstance(result, AllocationPlan):
        click.echo(_allocation_table(result, currency))
    else:
        click.echo(_selection_table(result, currency))
    if isinstance(result, Diagnosis):
        sys.exit(EXIT_INFEASIBLE)


@plan.command("allocate")
@PROBLEM
@FORMAT
def allocate_command(problem_file: Path, output_format: str) -> None:
    """Spread the budget over (platform, tier) segments."""
    log = _progress()
    problem = _load(problem_file, AllocationProblem)
    log(f"loaded {len(problem.segments)} segments")
    try:
        result = allocate(problem, log)
    except PricingError as error:
        _fail(error)
    _emit(result, output_format, problem.currency)


@plan.command("select")
@PROBLEM
@FORMAT
def select_command(problem_file: Path, output_format: str) -> None:
    """Choose which creators to hire."""
    log = _progress()
    problem = _load(problem_file, SelectionProblem)
    try:
        result = select(problem, log)
    except PricingError as error:
        _fail(error)
    _emit(result, output_format, problem.currency)


def _money(amount: int, currency: str | None) -> str:
    digits = MINOR_UNIT_DIGITS.get(currency or "", 0)
    text = f"{amount / 10**digits:,.{digits}f}"
    return f"{text} {currency}" if currency else f"{amount:,} (minor units)"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _summary(result: AllocationPlan | SelectionPlan, currency: str | None) -> str:
    return "\n".join(
        [
            f"status {result.status}  objective {result.objective}  "
            f"value {result.objective_value:,.6g}",
            f"bound {result.bound:,.6g}  gap {result.gap:.4%}  stopped: {result.stop_reason}",
            f"spend {_money(result.total_spend, currency)}  reach {result.total_reach:,.0f}  "
            f"conversions {result.total_conversions:,.2f}  creators {result.total_creators}",
            f"binding: {', '.join(result.binding) or 'none'}",
            *(f"note: {note}" for note in result.notes),
        ]
    )


def _allocation_table(result: AllocationPlan, currency: str | None) -> str:
    header = ["platform", "tier", "creators", "reach", "conversions", "spend"]
    rows = [
        [
            s.platform,
            s.tier,
            str(s.creators),
            f"{s.reach:,.0f}",
            f"{s.conversions:,.2f}",
            _money(s.spend, currency),
        ]
        for s in result.segments
        if s.creators
    ]
    return _table(header, rows) + "\n\n" + _summary(result, currency)


def _selection_table(result: SelectionPlan, currency: str | None) -> str:
    header = ["platform", "creators", "reach", "conversions", "spend"]
    rows = [
        [
            p.platform,
            str(p.creators),
            f"{p.reach:,.0f}",
            f"{p.conversions:,.2f}",
            _money(p.spend, currency),
        ]
        for p in result.platforms
    ]
    shown = ", ".join(result.selected[:20]) + (" …" if len(result.selected) > 20 else "")
    return _table(header, rows) + "\n\n" + _summary(result, currency) + f"\nselected: {shown}"


def _diagnosis_table(result: Diagnosis) -> str:
    header = ["constraint", "current", "needed", "proven", "detail"]
    rows = [
        [s.constraint, str(s.current), str(s.needed), "yes" if s.proven else "no", s.detail]
        for s in result.suggestions
    ]
    conflicts = ", ".join(result.conflicts) or "none identified"
    text = (
        f"status {result.status}  stopped: {result.stop_reason}\n"
        f"conflicting constraints: {conflicts}\n{result.detail}"
    )
    return text + ("\n\n" + _table(header, rows) if rows else "")
