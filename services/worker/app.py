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
from services.notifications.jobs import blueprint as notifications_jobs
from services.notifications.runner import Notifier
from services.payments.gateway import StripeLibraryGateway
from services.payments.jobs import blueprint as payments_jobs
from services.planning.jobs import blueprint as planning_jobs
from services.settings import Settings
from services.tracking.jobs import blueprint as tracking_jobs
from services.webhooks.jobs import blueprint as webhooks_jobs
from services.webhooks.pump import Pump
from services.worker.jobs import blueprint as worker_jobs

log = structlog.get_logger(__name__)
RESTART_DELAYS = (1, 2, 5, 10, 30)  # seconds between attempts while the database is away
EMBEDDED_GRACE_SECONDS = 5.0
BLUEPRINTS = {
    "accounts": accounts_jobs,
    "catalog": catalog_jobs,
    "planning": planning_jobs,
    "negotiation": negotiation_jobs,
    "deals": deals_jobs,
    "payments": payments_jobs,
    "delivery": delivery_jobs,
    "tracking": tracking_jobs,
    "webhooks": webhooks_jobs,
    "notifications": notifications_jobs,
    "worker": worker_jobs,
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
    Beside them the webhook pump delivers events and the notifier turns events into
    notifications and mails them: in the background while waiting, or once everything due
    is done when not. When the database goes away the worker does not die: it logs, waits and
    starts again, for as long as it takes. An `embedded` worker leaves signals to its host
    and, when cancelled, gives running jobs EMBEDDED_GRACE_SECONDS to finish.
    """
    settings = settings or Settings.from_env()
    attempt = 0
    while True:
        try:
            await _run(url, settings, concurrency, wait, embedded)
            return
        except Exception as error:  # the database went away (or never came): try again
            if not wait:
                raise
            delay = RESTART_DELAYS[min(attempt, len(RESTART_DELAYS) - 1)]
            log.error("worker_restarting", error=repr(error)[:300], in_seconds=delay)
            attempt += 1
            await asyncio.sleep(delay)


async def _run(url: str, settings: Settings, concurrency: int, wait: bool, embedded: bool) -> None:
    pool = await database.create_pool(url, min_size=1, max_size=concurrency + 4)
    gateway = StripeLibraryGateway(settings)
    connector = procrastinate.PsycopgConnector(conninfo=database.asyncpg_dsn(url))
    pump = Pump(pool, settings, url=url)
    notifier = Notifier(pool, settings, url=url)
    context = {"pool": pool, "gateway": gateway, "settings": settings}
    options = {
        "concurrency": concurrency,
        "wait": wait,
        "additional_context": context,
        "install_signal_handlers": wait and not embedded,
        "shutdown_graceful_timeout": EMBEDDED_GRACE_SECONDS if embedded else None,
    }
    try:
        with task_registry().replace_connector(connector) as app:
            async with app.open_async():
                if wait:
                    async with pump.running(), notifier.running():
                        await app.run_worker_async(**options)
                else:
                    await app.run_worker_async(**options)
                    await notifier.drain()
                    await pump.drain()
    finally:
        await pump.close()
        await gateway.close()
        await pool.close()


async def run_embedded(url: str, settings: Settings, concurrency: int = 2) -> None:
    """The worker beside the API, in its process and on its event loop, until cancelled; it
    starts again whenever it stops on an error."""
    await run_worker(url, settings=settings, concurrency=concurrency, embedded=True)
