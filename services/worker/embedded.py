"""The API and the worker in one process, on one event loop (`kolmarket serve --with-worker`).

uvicorn serves the app while the worker runs the jobs beside it. Ctrl-C (or SIGTERM) stops
uvicorn, which finishes its requests and its lifespan; then the worker stops, giving running
jobs a few seconds (`EMBEDDED_GRACE_SECONDS`) before it aborts them. A plan whose job was
aborted is ended by the watchdog the next time a worker runs.
"""

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn

from services.settings import Settings
from services.worker.app import run_embedded

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on the loop's signal handlers and leaving the process alive
    afterwards (uvicorn re-raises the signal it caught once it has stopped), so that the
    worker beside it can stop too."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)


async def serve_with_worker(config: uvicorn.Config, url: str, settings: Settings) -> None:
    worker = asyncio.create_task(run_embedded(url, settings), name="embedded worker")
    try:
        await _Server(config).serve()
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
