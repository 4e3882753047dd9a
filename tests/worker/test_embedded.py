"""`kolmarket serve --with-worker`: the API and the worker in one process. A queued catalog
selection is solved without any other process, and Ctrl-C stops both cleanly."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from services.catalog.seed import seed_kols
from tests.helpers import PASSWORD, unique_email
from tests.support.database import scratch_database

WAIT_SECONDS = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _until(check: Any, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if found := check():
                return found
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting for {what}")


def _merchant(http: httpx.Client) -> dict[str, str]:
    email = unique_email("merchant")
    body = {"email": email, "password": PASSWORD, "role": "merchant", "merchant_name": "Shop"}
    assert http.post("/v1/auth/register", json=body).status_code == 201
    token = http.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.mark.slow
def test_serve_with_worker_solves_a_queued_plan_and_stops_on_ctrl_c(server_url: str) -> None:
    with scratch_database(server_url, "kolmarket_serve") as url:
        asyncio.run(seed_kols(url, 100, seed=3, progress=False))
        port = _free_port()
        env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "PORT": str(port)}
        command = [sys.executable, "-m", "services.cli", "serve", "--with-worker", "--no-migrate"]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                _until(lambda: http.get("/health/ready").status_code == 200, "the API")
                headers = _merchant(http)
                spec = {"budget": 5_000_000, "platforms": ["tiktok", "instagram", "youtube"]}
                queued = http.post("/v1/plans/selections/from-catalog", json=spec, headers=headers)
                assert queued.status_code == 202, queued.text
                location = queued.headers["location"]

                def ended() -> Any:
                    plan = http.get(location, headers=headers).json()
                    return plan if plan["status"] not in ("queued", "running") else None

                plan = _until(ended, "the worker to solve the plan")
            assert plan["status"] == "solved", plan
            assert plan["creators_url"]
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=WAIT_SECONDS) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def test_with_worker_runs_beside_one_api_process_only() -> None:
    from click.testing import CliRunner

    from services.cli import main

    result = CliRunner().invoke(main, ["serve", "--with-worker", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers 1" in result.output
