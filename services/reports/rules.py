"""Pure rules of reports: derived ratios, totals, the funnel, the comparison with the plan, and
the CSV export. Ratios are integer basis points rounded half to even; money stays integer."""

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from contracts.reports import (
    BriefReport,
    Comparison,
    Figures,
    FunnelStep,
    Metric,
    SegmentComparison,
    Stage,
)
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


# Deals that no longer stand are not counted as a segment's deals (their money still is).
GONE = frozenset({"cancelled", "refunded"})


def against_segments(
    rows: Sequence[Mapping[str, Any]], plan: Mapping[str, Any] | None
) -> list[SegmentComparison]:
    """The adopted plan's expectations per (platform, tier) beside what the deals there did:
    a deal counts in its first deliverable's platform and its KOL's tier on that platform."""
    if plan is None:
        return []
    zero = {"expected": [0, 0, 0.0, 0.0], "actual": [0, 0, 0, 0]}
    lines: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for e in plan["expected"]:
        line = lines.setdefault((e["platform"], e["tier"]), {k: list(v) for k, v in zero.items()})
        line["expected"] = [e["creators"], e["spend"], e["reach"], e["conversions"]]
    for row in rows:
        if row["platform"] is None or row["tier"] is None:
            continue
        line = lines.setdefault(
            (row["platform"], row["tier"]), {k: list(v) for k, v in zero.items()}
        )
        numbers = figures(row)
        got = [row["status"] not in GONE, numbers.spend, numbers.reach, numbers.conversions]
        line["actual"] = [a + b for a, b in zip(line["actual"], got, strict=True)]
    return [
        SegmentComparison(
            platform=platform, tier=tier,
            expected_creators=line["expected"][0], expected_spend=line["expected"][1],
            expected_reach=round(line["expected"][2]),
            expected_conversions=round(line["expected"][3]),
            deals=line["actual"][0], spend=line["actual"][1], reach=line["actual"][2],
            conversions=line["actual"][3],
        )
        for (platform, tier), line in sorted(lines.items())
    ]  # fmt: skip


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
