"""Liveness (the process answers) and readiness (the database answers, at the expected schema)."""

import asyncpg
import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State

from services.errors import Unavailable
from services.web import problem_responses

CURRENT_REVISION = "SELECT version_num FROM alembic_version"


class Health(msgspec.Struct, kw_only=True, omit_defaults=True):
    """`status` is `ok`; readiness adds the database's state and its schema revision."""

    status: str
    database: str | None = None
    schema_revision: str | None = None


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    opt = {"public": True}

    @get(
        "/live",
        operation_id="getLiveness",
        summary="The process is up",
        description=('Answers `{"status": "ok"}` while the process runs; it reads nothing.'),
        responses=problem_responses(),
    )
    async def live(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        operation_id="getReadiness",
        summary="The database answers and its schema is at the expected revision",
        description=(
            "Answers `ok` with the schema revision when the database answers within 2 seconds and "
            "its schema is at the revision this version expects; otherwise 503 with Retry-After."
        ),
        responses=problem_responses(503),
    )
    async def ready(self, state: State) -> Response[Health]:
        try:
            async with state.pool.acquire(timeout=2) as conn:
                revision = await conn.fetchval(CURRENT_REVISION, timeout=2)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise Unavailable(
                f"database unavailable: {type(exc).__name__}", headers={"Retry-After": "5"}
            ) from exc
        if revision != state.schema_head:
            raise Unavailable(f"schema at {revision}, expected {state.schema_head}; run migrations")
        return Response(Health(status="ok", database="ok", schema_revision=revision))
