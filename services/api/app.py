"""The app factory: assembles the contexts' routes with auth, errors, logging and docs."""

import gc
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from importlib.metadata import version

import asyncpg
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services import addresses, database, limits
from services.accounts.routes import ROUTES as ACCOUNT_ROUTES
from services.accounts.standing import StandingCache
from services.api import dependencies, document, locations
from services.api.auth import CallerAuthMiddleware
from services.api.bodies import check_request
from services.api.health import HealthController
from services.api.middleware import options_answering, request_context_middleware
from services.api.openapi import docs_assets_router, openapi_config
from services.api.problems import EXCEPTION_HANDLERS
from services.api.webhooks_doc import webhooks_section, webhooks_tag
from services.briefs.routes import ROUTES as BRIEF_ROUTES
from services.catalog.routes import ROUTES as CATALOG_ROUTES
from services.deals.routes import ROUTES as DEAL_ROUTES
from services.delivery.routes import ROUTES as DELIVERY_ROUTES
from services.disputes.routes import ROUTES as DISPUTE_ROUTES
from services.feed.listener import EventSignal
from services.feed.routes import ROUTES as EVENT_ROUTES
from services.logs import configure_logging
from services.negotiation.routes import ROUTES as NEGOTIATION_ROUTES
from services.notifications.routes import ROUTES as NOTIFICATION_ROUTES
from services.payments.gateway import StripeGateway, StripeLibraryGateway
from services.payments.routes import ROUTES as PAYMENT_ROUTES
from services.planning.routes import ROUTES as PLANNING_ROUTES
from services.reports.routes import ROUTES as REPORT_ROUTES
from services.settings import Settings
from services.tracking import rules_clicks
from services.tracking.clicks import ClickRecorder
from services.tracking.redirect import REDIRECT_ROUTES, LinkCache
from services.tracking.routes import ROUTES as CONVERSION_ROUTES
from services.web import (
    PUBLIC,
    provide_caller,
    provide_db,
    provide_idempotency,
    provide_pool,
    provide_settings,
)
from services.webhooks.routes import ROUTES as WEBHOOK_ROUTES


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    dependencies.install()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        url = database.resolve_url(settings.database_url, settings.data_dir)
        app.state.pool = await database.create_pool(
            url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        app.state.gateway = StripeLibraryGateway(settings)
        app.state.limits.start(_counter_store(settings, app.state.pool))
        app.state.clicks = ClickRecorder(app.state.pool, settings.spool_folder)
        app.state.clicks.start()
        app.state.event_signal = EventSignal(url)
        await app.state.event_signal.start()
        await app.state.standing.start(url)
        # What exists once the app has started lives as long as the process: keep it out of
        # the collector's rounds, which otherwise scan it again and again under load.
        gc.freeze()
        try:
            yield
        finally:
            await app.state.standing.stop()
            await app.state.event_signal.stop()
            await app.state.clicks.stop()
            await app.state.limits.stop()
            await app.state.gateway.close()
            await app.state.pool.close()

    app = Litestar(
        route_handlers=[
            HealthController,
            docs_assets_router(),
            *ACCOUNT_ROUTES,
            *CATALOG_ROUTES,
            *PLANNING_ROUTES,
            *BRIEF_ROUTES,
            *NEGOTIATION_ROUTES,
            *DEAL_ROUTES,
            *PAYMENT_ROUTES,
            *DELIVERY_ROUTES,
            *DISPUTE_ROUTES,
            *CONVERSION_ROUTES,
            *REPORT_ROUTES,
            *REDIRECT_ROUTES,
            *WEBHOOK_ROUTES,
            *EVENT_ROUTES,
            *NOTIFICATION_ROUTES,
        ],
        before_request=check_request,
        after_request=locations.locate,
        middleware=[
            DefineMiddleware(
                CallerAuthMiddleware,
                exclude=["^/health", "^/docs", "^/static/"],
                exclude_from_auth_key=PUBLIC,
            )
        ],
        dependencies={
            "db": Provide(provide_db),
            "pool": Provide(provide_pool, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "gateway": Provide(provide_gateway, sync_to_thread=False),
            "idempotency": Provide(provide_idempotency),
        },
        lifespan=[lifespan],
        state=_initial_state(settings),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=_openapi_config(),
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins))
        if settings.cors_origins
        else None,
        logging_config=None,
        debug=False,
    )
    document.finish(app)
    # Wrapped around the whole handler, so unknown routes are logged and carry an id too.
    app.asgi_handler = _behind_proxies(
        request_context_middleware(options_answering(app.asgi_handler, list(app.routes))),
        settings,
    )
    return app


def _openapi_config() -> OpenAPIConfig:
    """The document's configuration, with the `webhooks` section partners implement."""
    config = openapi_config(version("kolmarket"))
    config.webhooks = webhooks_section()
    config.tags = [*(config.tags or []), webhooks_tag()]
    return config


def _behind_proxies(handler: ASGIApp, settings: Settings) -> ASGIApp:
    """Whatever server runs the app, only the peers in TRUSTED_PROXIES may name the client
    and the scheme (`X-Forwarded-For`, `X-Forwarded-Proto`); by default no peer may."""
    if not settings.trusted_proxies:
        return handler
    trusted = list(settings.trusted_proxies)
    return ProxyHeadersMiddleware(handler, trusted_hosts=trusted)  # type: ignore[arg-type]


def provide_gateway(state: State) -> StripeGateway:
    gateway: StripeGateway = state.gateway
    return gateway


def _counter_store(settings: Settings, pool: asyncpg.Pool) -> limits.CounterStore:
    """Where the shared limits count: Redis when configured, else the app's database."""
    if settings.redis_url:
        return limits.RedisCounters(settings.redis_url)
    return limits.PostgresCounters(pool)


def _initial_state(settings: Settings) -> State:
    shared = limits.SharedLimits()
    return State(
        {
            "settings": settings,
            "schema_head": database.head_revision(),
            "limits": shared,
            "request_limiter": shared.limit("caller", settings.request_limit_per_minute),
            "click_limiter": shared.limit("click", settings.click_limit_per_minute),
            "tracking_links": LinkCache(),
            "visitor_key": rules_clicks.visitor_key(settings.jwt_secret),
            "address_key": addresses.key(settings.jwt_secret, "address"),
            "standing": StandingCache(acquire_timeout=settings.db_acquire_timeout_seconds),
        }
    )
