"""`plan allocate|select`: JSON on stdout and exit 0, diagnosis and exit 3, malformed files
refused with exit 2 and the field named on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from contracts.planning import AllocationPlan, Diagnosis, SelectionPlan
from services.planning.cli import plan

SEGMENTS = [
    {
        "platform": "douyin",
        "tier": "nano",
        "fee": 5000,
        "reach": 3000,
        "audience": 300000,
        "cvr": 0.002,
        "available": 50,
    },
    {
        "platform": "instagram",
        "tier": "mid",
        "fee": 200000,
        "reach": 120000,
        "audience": 5000000,
        "cvr": 0.001,
        "available": 5,
    },
]
CANDIDATES = [
    {
        "id": "a",
        "platform": "tiktok",
        "tier": "micro",
        "fee": 30000,
        "reach": 20000,
        "conversions": 4.0,
    },
    {
        "id": "b",
        "platform": "tiktok",
        "tier": "nano",
        "fee": 4000,
        "reach": 3000,
        "conversions": 0.9,
    },
    {
        "id": "c",
        "platform": "youtube",
        "tier": "mid",
        "fee": 150000,
        "reach": 90000,
        "conversions": 15.0,
    },
]


def write(tmp_path: Path, data: object, raw: bytes | None = None) -> str:
    path = tmp_path / "problem.json"
    path.write_bytes(raw if raw is not None else msgspec.json.encode(data))
    return str(path)


def run(*args: str):
    return CliRunner().invoke(plan, list(args))


def test_allocate_prints_the_plan_as_json(tmp_path: Path) -> None:
    result = run(
        "allocate", write(tmp_path, {"segments": SEGMENTS, "budget": 1_000_000, "currency": "USD"})
    )
    assert result.exit_code == 0, result.output
    decoded = msgspec.json.decode(result.stdout, type=AllocationPlan)
    assert decoded.total_spend <= 1_000_000
    assert "LP bound" in result.stderr


def test_allocate_prints_a_readable_table(tmp_path: Path) -> None:
    result = run(
        "allocate",
        write(tmp_path, {"segments": SEGMENTS, "budget": 1_000_000, "currency": "USD"}),
        "--format",
        "table",
    )
    assert result.exit_code == 0
    assert "USD" in result.stdout and "binding" in result.stdout
    assert "stopped: gap_limit" in result.stdout


def test_select_prints_the_chosen_ids(tmp_path: Path) -> None:
    result = run("select", write(tmp_path, {"candidates": CANDIDATES, "budget": 40_000}))
    assert result.exit_code == 0, result.output
    decoded = msgspec.json.decode(result.stdout, type=SelectionPlan)
    assert decoded.selected == ["a", "b"]
    assert "loaded 3 candidates" in result.stderr


def test_an_infeasible_problem_prints_its_diagnosis_and_exits_3(tmp_path: Path) -> None:
    data = {
        "candidates": CANDIDATES,
        "budget": 1_000,
        "min_conversions": 10.0,
        "time_limit_seconds": 5,
    }
    result = run("select", write(tmp_path, data))
    assert result.exit_code == 3
    diagnosis = msgspec.json.decode(result.stdout, type=Diagnosis)
    assert "budget" in diagnosis.conflicts


@pytest.mark.parametrize(
    ("data", "raw", "field"),
    [
        (None, b"{not json", "malformed JSON"),
        ({"segments": SEGMENTS}, None, "budget"),
        ({"segments": SEGMENTS, "budget": -5}, None, "budget"),
        ({"segments": [{**SEGMENTS[0], "cvr": 2.0}], "budget": 5}, None, "segments[0].cvr"),
        ({"segments": SEGMENTS, "budget": 5, "colour": "red"}, None, "colour"),
        (
            {"segments": [{**SEGMENTS[0], "reach": 10.0, "audience": 5.0}], "budget": 5},
            None,
            "segments[0].reach",
        ),
    ],
)
def test_a_malformed_file_exits_2_naming_the_field(
    tmp_path: Path, data: object, raw: bytes | None, field: str
) -> None:
    result = run("allocate", write(tmp_path, data, raw))
    assert result.exit_code == 2
    assert field in result.stderr
    assert result.stdout == ""


def test_plan_starts_without_the_web_app_the_database_driver_or_pandas(tmp_path: Path) -> None:
    """What `kolmarket plan` imports decides how fast it starts (its time is in the bench)."""
    problem = write(tmp_path, {"candidates": CANDIDATES, "budget": 40_000})
    script = (
        "import sys\n"
        "from services.cli import main\n"
        f"main(['plan', 'select', {problem!r}], standalone_mode=False)\n"
        "heavy = ('litestar', 'asyncpg', 'pandas', 'sqlalchemy', 'services.api', 'structlog')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    plan_json, imported = done.stdout.strip().splitlines()
    assert msgspec.json.decode(plan_json, type=SelectionPlan).selected == ["a", "b"]
    assert imported == "[]"
