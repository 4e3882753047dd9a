"""OpenAPI configuration: docs served at /docs from local assets, and error responses per route."""

from pathlib import Path

import swagger_ui
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server, Tag
from litestar.static_files import create_static_files_router

from contracts.errors import Problem

ASSETS_PATH = "/static/docs"
ASSETS_DIR = Path(swagger_ui.__file__).parent / "static"

_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Forbidden for this caller",
    404: "Not found, or not visible to this caller",
    409: "Conflict with the current state",
    422: "Validation failed; `errors` names each field",
    429: "Rate limited; see Retry-After",
    500: "Unexpected error; logged with the request id",
    503: "Not ready",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Document the problem+json answers a route can give, besides the 500 any route can."""
    codes = sorted({*statuses, 500})
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(code, "Error"),
            media_type="application/problem+json",
            generate_examples=False,
        )
        for code in codes
    }


def docs_assets_router() -> object:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS_DIR],
        include_in_schema=False,
        opt={"public": True},
    )


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="kolmarket API",
        version=version,
        description=(
            "Influencer (KOL) marketplace: briefs, transparent negotiation, escrow through "
            "Stripe, tracking and a pricing engine. Money is integer minor units with an "
            "ISO 4217 currency; rates are basis points. Errors are RFC 9457 problem+json."
        ),
        path="/docs",
        servers=[Server(url="/")],
        tags=[Tag(name="health", description="Liveness and readiness")],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http", scheme="bearer", bearer_format="JWT", description="access token"
                ),
                "ApiKey": SecurityScheme(
                    type="apiKey",
                    name="X-API-Key",
                    security_scheme_in="header",
                    description="partner API key",
                ),
            }
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                css_url=f"{ASSETS_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' href='{ASSETS_PATH}/favicon-32x32.png'>",
            )
        ],
    )
