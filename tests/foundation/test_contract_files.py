"""Committed artefacts match what the code produces: the OpenAPI document and compose.yaml."""

import json
import shlex
from pathlib import Path

import yaml
from openapi_spec_validator import validate

from services.api.schema import render_schema
from services.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_document_is_current() -> None:
    committed = (ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert committed == render_schema(), "openapi/openapi.json is stale: run `make openapi`"


def test_openapi_document_is_valid_3_1_with_ids_summaries_and_errors() -> None:
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    validate(document)
    assert document["openapi"].startswith("3.1")
    operation_ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("operationId"), f"{where} has no operationId"
            assert operation.get("summary"), f"{where} has no summary"
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert errors, f"{where} documents no error response"
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))


def _commands(compose: dict) -> list[list[str]]:
    found = []
    for service in compose["services"].values():
        command = service.get("command")
        if command:
            found.append(command if isinstance(command, list) else shlex.split(command))
    return found


def test_every_command_compose_runs_exists() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    commands = _commands(compose)
    assert commands
    for command in commands:
        assert command[0] == "kolmarket", f"unknown program {command[0]}"
        sub = command[1]
        assert sub in main.commands, f"no subcommand {sub}"
        # Parsing with the real command fails on an unknown option or a bad value.
        main.commands[sub].make_context(sub, list(command[2:]))


def test_compose_runs_postgres_17_with_health_check_and_volume() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:17"
    assert "healthcheck" in postgres
    assert any(v.startswith("pgdata:") for v in postgres["volumes"])
    assert compose["services"]["api"]["deploy"]["replicas"] == 2
    assert compose["services"]["worker"]["command"][:2] == ["kolmarket", "worker"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "uv sync --frozen" in dockerfile


def test_make_targets_the_readme_names_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in ("run", "test"):
        assert f"\n{target}:" in makefile
        assert f"make {target}" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_currency_vocabulary_is_the_list_of_minor_units() -> None:
    from contracts.common import MINOR_UNIT_DIGITS, Currency

    assert {c.value for c in Currency} == set(MINOR_UNIT_DIGITS)


def test_every_event_payload_has_its_event_type() -> None:
    from typing import get_args

    from contracts.events import EventPayload, EventType

    tags = {kind.__struct_config__.tag for kind in get_args(EventPayload)}
    assert {member.value for member in EventType} == tags
