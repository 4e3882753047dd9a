"""The worker: one procrastinate app gathering every context's jobs, with a shared asyncpg pool.

Each context declares its jobs in `jobs.py` on a `procrastinate.Blueprint`; they are
registered here under the context's name, so task names read `accounts:purge_rate_limits`.
The worker runs as its own process (`kolmarket worker`) or beside the API in the same process
(`kolmarket serve --with-worker`, see `run_embedded`).
"""

import asyncio
import functools

import procrastinate
import structlog

from services import database
from services.accounts.jobs import blueprint as accounts_jobs
from services.catalog.jobs import blueprint as catalog_jobs
from services.deals.jobs import blueprint as deals_jobs
from services.delivery.jobs import blueprint as delivery_jobs
from services.negotiation.jobs import blueprint as negotiation_jobs
from services.payments.gateway import StripeLibraryGateway
from services.payments.jobs import blueprint as payments_jobs
from services.planning.jobs import blueprint as planning_jobs
from services.settings import Settings
from services.tracking.jobs import blueprint as tracking_jobs

log = structlog.get_logger(__name__)
BLUEPRINTS = {
    "accounts": accounts_jobs,
    "catalog": catalog_jobs,
    "planning": planning_jobs,
    "negotiation": negotiation_jobs,
    "deals": deals_jobs,
    "payments": payments_jobs,
    "delivery": delivery_jobs,
    "tracking": tracking_jobs,
}


@functools.cache
def task_registry() -> procrastinate.App:
    """Every context's tasks on one app, built once per process (registering a blueprint
    renames its tasks in place). Runs attach a connector to their database."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector())
    for namespace, blueprint in BLUEPRINTS.items():
        app.add_tasks_from(blueprint, namespace=namespace)
    return app


async def run_worker(
    url: str,
    *,
    settings: Settings | None = None,
    concurrency: int = 4,
    wait: bool = True,
    embedded: bool = False,
) -> None:
    """Run jobs until stopped (or, with `wait=False`, until the queue is empty).

    Jobs share one pool, one Stripe gateway and the settings, given to them in their context.
    An `embedded` worker leaves signals to its host and, when cancelled, gives running jobs
    EMBEDDED_GRACE_SECONDS to finish before it aborts them.
    """
    pool = await database.create_pool(url, min_size=1, max_size=concurrency + 1)
    settings = settings or Settings.from_env()
    gateway = StripeLibraryGateway(settings)
    connector = procrastinate.PsycopgConnector(conninfo=database.asyncpg_dsn(url))
    try:
        with task_registry().replace_connector(connector) as app:
            async with app.open_async():
                await app.run_worker_async(
                    concurrency=concurrency,
                    wait=wait,
                    additional_context={"pool": pool, "gateway": gateway, "settings": settings},
                    install_signal_handlers=wait and not embedded,
                    shutdown_graceful_timeout=EMBEDDED_GRACE_SECONDS if embedded else None,
                )
    finally:
        await gateway.close()
        await pool.close()


EMBEDDED_GRACE_SECONDS = 5.0
RESTART_SECONDS = 5.0


async def run_embedded(url: str, settings: Settings, concurrency: int = 2) -> None:
    """The worker beside the API, in its process and on its event loop, until cancelled; if it
    stops on an error (the database away for a moment), it starts again."""
    while True:
        try:
            await run_worker(url, settings=settings, concurrency=concurrency, embedded=True)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.error("embedded_worker_stopped", exc_info=error, restart_in=RESTART_SECONDS)
        await asyncio.sleep(RESTART_SECONDS)
