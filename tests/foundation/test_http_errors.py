"""Every error is problem+json with the right status; nothing leaks a stack trace."""

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

PROBLEM = "application/problem+json"


async def test_liveness_and_readiness_answer_ok(client: AsyncTestClient[Litestar]) -> None:
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")
    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_every_response_carries_a_request_id(client: AsyncTestClient[Litestar]) -> None:
    mine = await client.get("/health/live", headers={"X-Request-ID": "req-123"})
    assert mine.headers["x-request-id"] == "req-123"
    missing = await client.get("/no/such/route")
    assert len(missing.headers["x-request-id"]) == 32
    assert missing.json()["request_id"] == missing.headers["x-request-id"]


async def test_unknown_route_is_a_problem_404(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["title"] == "Not found"


async def test_wrong_method_is_a_problem_405(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/health/live")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_docs_render_without_any_cdn(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert assets
    assert all(url.startswith("/static/docs/") for url in assets), assets
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert (await client.get(f"/static/docs/{asset}")).status_code == 200
