"""Pure rules of reports: derived ratios, totals, the funnel, the comparison with the plan, and
the CSV export. Ratios are integer basis points rounded half to even; money stays integer."""

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from contracts.reports import BriefReport, Comparison, Figures, FunnelStep, Metric, Stage
from pricing import round_half_even

BP = 10_000
SUMMED = (
    "fixed_spend", "commission_spend", "pending_commission", "clicks", "conversions", "gmv",
    "reach", "engagement", "repeat_buyers",
)  # fmt: skip
CSV_COLUMNS = (
    "deal_id", "kol_id", "status", "currency", "fixed_spend", "commission_spend",
    "pending_commission", "spend", "clicks", "conversions", "gmv", "roi_bp",
    "cost_per_conversion", "reach", "engagement", "repeat_buyers",
)  # fmt: skip


def ratio_bp(part: int, whole: int) -> int | None:
    return round_half_even(part * BP, whole) if whole else None


def figures(raw: Mapping[str, Any]) -> Figures:
    """A deal's (or the brief's) figures from its counted sources."""
    spend = raw["fixed_spend"] + raw["commission_spend"]
    conversions = raw["conversions"]
    return Figures(
        **{name: raw[name] for name in SUMMED},
        spend=spend,
        roi_bp=ratio_bp(raw["gmv"] - spend, spend),
        cost_per_conversion=round_half_even(spend, conversions) if conversions else None,
    )


def total(rows: Sequence[Mapping[str, Any]], repeat_buyers: int) -> Figures:
    """The brief's figures: sums over its deals, except buyers, who may return through
    another KOL and are counted once across the brief."""
    summed = {name: sum(row[name] for row in rows) for name in SUMMED}
    return figures(summed | {"repeat_buyers": repeat_buyers})


def funnel(figures_: Figures) -> list[FunnelStep]:
    counts = [
        (Stage.REACH, figures_.reach),
        (Stage.ENGAGEMENT, figures_.engagement),
        (Stage.CLICKS, figures_.clicks),
        (Stage.CONVERSIONS, figures_.conversions),
        (Stage.REPEAT_BUYERS, figures_.repeat_buyers),
    ]
    steps = []
    previous: int | None = None
    for stage, count in counts:
        rate = None if previous is None else ratio_bp(count, previous)
        steps.append(FunnelStep(stage=stage, count=count, rate_bp=rate))
        previous = count
    return steps


def against_plan(
    actual: Figures, goals: Mapping[str, int], plan: Mapping[str, Any] | None
) -> list[Comparison]:
    """Goals of 0 are not goals; a plan's expected reach and conversions are rounded."""

    def expected(name: str) -> int | None:
        if plan is None or plan[name] is None:
            return None
        return round(plan[name])

    return [
        Comparison(metric=Metric.SPEND, goal=None, expected=expected("spend"), actual=actual.spend),
        Comparison(
            metric=Metric.REACH,
            goal=goals["reach"] or None,
            expected=expected("reach"),
            actual=actual.reach,
        ),
        Comparison(
            metric=Metric.CONVERSIONS,
            goal=goals["conversions"] or None,
            expected=expected("conversions"),
            actual=actual.conversions,
        ),
    ]


def to_csv(report: BriefReport) -> str:
    """One line per deal, then the brief's total (deal_id `total`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    lines = [(str(d.deal_id), str(d.kol_id), d.status.value, d.figures) for d in report.deals]
    lines.append(("total", "", "", report.total))
    for deal_id, kol_id, status, numbers in lines:
        values = {name: getattr(numbers, name) for name in CSV_COLUMNS[4:]}
        writer.writerow(
            [deal_id, kol_id, status, report.currency]
            + ["" if values[n] is None else values[n] for n in CSV_COLUMNS[4:]]
        )
    return out.getvalue()
