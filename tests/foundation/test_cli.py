"""The `kolmarket` command has every verb the README names, mounted and working."""

import json
from pathlib import Path

from click.testing import CliRunner

from services.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_verb_is_mounted_and_documented() -> None:
    verbs = {"serve", "migrate", "worker", "seed", "plan", "operator", "openapi"}
    assert verbs <= set(main.commands)
    for verb in verbs:
        assert f"`kolmarket {verb}" in README, verb


def test_plan_allocate_through_the_main_command(tmp_path: Path) -> None:
    problem = {
        "segments": [
            {
                "platform": "tiktok",
                "tier": "nano",
                "fee": 15_000,
                "reach": 4_000,
                "audience": 400_000,
                "cvr": 0.004,
                "available": 30,
            },
        ],
        "budget": 100_000,
    }
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem), encoding="utf-8")
    result = CliRunner().invoke(main, ["plan", "allocate", str(path)])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["segments"][0]["creators"] == 6
    assert plan["total_spend"] == 90_000
