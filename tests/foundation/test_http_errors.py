"""Every error is problem+json with the right status; nothing leaks a stack trace."""

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import Client, merchant

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


async def test_text_with_a_nul_character_is_refused_naming_the_field(client: Client) -> None:
    body = {"email": "nul@example.com", "password": "correct horse 42", "role": "kol",
            "display_name": "Mia\u0000Chen"}  # fmt: skip
    refused = await client.post("/v1/auth/register", json=body)
    owner = await merchant(client)
    in_query = await client.get("/v1/conversions?order_id=a%00b", headers=owner.headers)
    in_list = await client.post(
        "/v1/conversions/batch",
        json={"items": [{"order_id": "ok"}, {"order_id": "x\u0000y"}]},
        headers=owner.headers,
    )

    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "display_name")
    assert refused.headers["content-type"] == "application/problem+json"
    assert (in_query.status_code, in_query.json()["errors"][0]["field"]) == (422, "order_id")
    assert (in_list.status_code, in_list.json()["errors"][0]["field"]) == (
        422,
        "items[1].order_id",
    )
