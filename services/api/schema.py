"""The OpenAPI document, generated from the app (no database needed) and written stably."""

import json
from pathlib import Path
from typing import Any

from litestar.serialization import encode_json

from services.api.app import create_app
from services.settings import Settings


def generate_schema() -> dict[str, Any]:
    app = create_app(Settings(log_format="json", log_level="WARNING"))
    schema: dict[str, Any] = json.loads(encode_json(app.openapi_schema.to_schema()))
    return schema


def render_schema() -> str:
    return json.dumps(generate_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_schema(), encoding="utf-8")
