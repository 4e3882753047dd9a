"""OpenAPI configuration: docs served at /docs from local assets, and error responses per route."""

from pathlib import Path

import swagger_ui
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server, Tag
from litestar.static_files import create_static_files_router

ASSETS_PATH = "/static/docs"
ASSETS_DIR = Path(swagger_ui.__file__).parent / "static"


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
