"""OpenAPI configuration: docs served at /docs from local assets, and error responses per route."""

from pathlib import Path

import swagger_ui
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, Contact, License, SecurityScheme, Server, Tag
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


TAGS = {
    "auth": "Accounts, sessions (access and refresh tokens), the caller (`/v1/me`) and a "
    "merchant's members",
    "partner keys": "API keys a merchant's owners issue to partners, with scopes",
    "catalog": "KOL profiles, their social accounts and audience snapshots, and search",
    "pricing": "The rate card and quotes: every fee, commission and platform cut with how it "
    "was computed",
    "planning": "Budget allocation across tiers and platforms, and creator selection, under "
    "reach and conversion targets",
    "briefs": "Campaign briefs: drafted, published, closed or cancelled by their merchant",
    "offers": "Invitations, applications and counter-offers until one side accepts",
    "deals": "Accepted offers: funding in escrow, content submissions and their review",
    "payments": "The merchant's card and the settlements of commissions",
    "payouts": "KOLs' payout accounts and earnings; payouts an operator should look at",
    "disputes": "Disputes and takedowns of published content, resolved by operators",
    "tracking": "Tracking links (the redirect) and conversions reported by merchants and partners",
    "reports": "A brief's results per deal, against its adopted plan",
    "events": "The events feed and its live stream",
    "webhook endpoints": "Where a merchant receives events, and each delivery's log",
    "notifications": "What needs the caller's attention, in the app and by email",
    "operators": "Operators' actions on merchants and accounts",
    "health": "Liveness and readiness",
}


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
        tags=[Tag(name=name, description=text) for name, text in TAGS.items()],
        contact=Contact(
            name="kolmarket partner support",
            email="partners@kolmarket.com",
            url="https://kolmarket.com/partners",
        ),
        license=License(name="Proprietary", identifier="LicenseRef-kolmarket-partner-terms"),
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
