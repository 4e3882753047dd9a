"""Shared by the tracking tests: a deal with a tracking link, made through the API (in-process
or over a socket), and the apps of these tests run as real `kolmarket serve` processes."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import kol, merchant
from tests.negotiation.support import answer, invite, open_brief

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
ROOT = Path(__file__).resolve().parents[2]


async def make_deal(client: Any) -> dict[str, Any]:
    """An accepted deal (with its `tracking_code`), through any client of the API."""
    owner, creator = await merchant(client), await kol(client)
    brief = await open_brief(client, owner)
    offer = await invite(client, owner, brief["id"], creator)
    accepted = await answer(client, creator, offer, "accept", 1)
    assert accepted.status_code == 200, accepted.text
    deal: dict[str, Any] = accepted.json()
    return deal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    """A `kolmarket serve` process on a port of its own."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` and wait for the process to end; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


@contextmanager
def serve(database_url: str, data_dir: Path, **env: str) -> Iterator[Served]:
    """`kolmarket serve --no-migrate` against `database_url`, ready to answer; stopped (SIGTERM)
    on the way out if still running."""
    with serve_all(database_url, [data_dir], **env) as (served,):
        yield served


@contextmanager
def serve_all(database_url: str, data_dirs: list[Path], **env: str) -> Iterator[list[Served]]:
    """One process per data folder, started together."""
    started = [_start(database_url, folder, env) for folder in data_dirs]
    try:
        for served in started:
            _wait_ready(served)
        yield started
    finally:
        for served in started:
            if served.process.poll() is None:
                served.stop()


def _start(database_url: str, data_dir: Path, env: dict[str, str]) -> Served:
    port = free_port()
    environ = {
        **os.environ, "DATABASE_URL": database_url, "KOLMARKET_DATA_DIR": str(data_dir),
        "JWT_SECRET": "test-secret-" + "x" * 40, "LOG_FORMAT": "json",
        "LOGIN_LIMIT_PER_IP": "100000", "REGISTER_LIMIT_PER_IP": "100000",
        "CLICK_LIMIT_PER_MINUTE": "1000000", **env,
    }  # fmt: skip
    command = [sys.executable, "-m", "services.cli", "serve", "--no-migrate", "--port", str(port)]
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=out, stderr=out)
    return Served(process, port, log)


def _wait_ready(served: Served, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited early:\n{served.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{served.url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"serve did not answer in time:\n{served.log.read_text()[-3000:]}")
