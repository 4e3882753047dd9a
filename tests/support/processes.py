"""The product's own processes, for tests that need them apart from the tests' process: the
API served by `kolmarket serve` on a real socket, and `kolmarket worker`; each configured by
environment variables, as in production, and stopped (or found dead) afterwards.

Their logs go to the tests' own output, which pytest shows when a test fails.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # seconds


def environment(settings: Settings, **overrides: str) -> dict[str, str]:
    """The variables a process reads its settings from (`Settings.from_env`), with overrides."""
    values = {
        "DATABASE_URL": settings.database_url or "",
        "JWT_SECRET": settings.jwt_secret,
        "DB_POOL_MIN": str(settings.db_pool_min),
        "DB_POOL_MAX": str(settings.db_pool_max),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "STRIPE_API_KEY": settings.stripe_api_key,
        "STRIPE_API_BASE": settings.stripe_api_base,
        "STRIPE_WEBHOOK_SECRET": settings.stripe_webhook_secret,
        "STRIPE_TIMEOUT_SECONDS": str(settings.stripe_timeout_seconds),
        "STRIPE_MAX_RETRIES": str(settings.stripe_max_retries),
        "LOGIN_LIMIT_PER_IP": "100000",
        "REGISTER_LIMIT_PER_IP": "100000",
        "REQUEST_LIMIT_PER_MINUTE": "100000",
        "CLICK_LIMIT_PER_MINUTE": "100000",
    }
    return {**os.environ, **values, **overrides}


def kolmarket(env: dict[str, str], *args: str) -> "subprocess.Popen[bytes]":
    """Start `kolmarket <args>` from this checkout."""
    return subprocess.Popen([sys.executable, "-m", "services.cli", *args], cwd=ROOT, env=env)


def stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, "subprocess.Popen[bytes]"]]:
    """`kolmarket serve` (the schema already migrated); yields its base URL, once it answers,
    and its process."""
    port = free_port()
    process = kolmarket(env, "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port))
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_live(process, base_url)
        yield base_url, process
    finally:
        stop(process)


@contextlib.contextmanager
def working(env: dict[str, str], concurrency: int = 2) -> Iterator["subprocess.Popen[bytes]"]:
    """`kolmarket worker` until the block ends."""
    process = kolmarket(env, "worker", "--concurrency", str(concurrency))
    try:
        yield process
    finally:
        stop(process)


def _wait_until_live(process: "subprocess.Popen[bytes]", base_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kolmarket serve exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health/live", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"kolmarket serve at {base_url} did not answer in time")
