"""Client addresses: `X-Forwarded-For` counts only from trusted proxies, the audit log keeps a
keyed hash of the address and never the address, and old entries are purged."""

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
from click.testing import CliRunner
from litestar import Litestar

from services import addresses, audit
from services.cli import main
from services.jobs import defer
from services.settings import Settings
from services.worker.app import run_worker
from tests.accounts.callers import from_address, served
from tests.helpers import Client, kol

WRONG = "wrong password 1"
ADDRESSES = ("127.0.0.1", "10.1.2.3", "10.0.0.7", "192.0.2.1", "203.0.113.9")


def hashed(settings: Settings, address: str) -> str:
    return addresses.keyed_hash(addresses.key(settings.jwt_secret, "address"), address)


async def _failed_from(app: Litestar, db, email: str, peer: str, forwarded: str) -> str:
    """The address hash the audit log keeps for a failed login sent from `peer`."""
    async with from_address(app, peer) as client:
        response = await client.post(
            "/v1/auth/token",
            json={"email": email, "password": WRONG},
            headers={"X-Forwarded-For": forwarded},
        )
    assert response.status_code == 401
    kept: str = await db.fetchval(
        "SELECT address_hash FROM audit_log WHERE action = 'login_failed' "
        "AND user_id = (SELECT id FROM users WHERE email = $1) ORDER BY id DESC LIMIT 1",
        email,
    )
    return kept


@pytest.fixture(scope="module")
async def behind_proxy(settings) -> AsyncIterator[Litestar]:
    async with served(msgspec.structs.replace(settings, trusted_proxies=("10.0.0.0/8",))) as app:
        yield app


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(
    local_app: Litestar, client: Client, db, settings
) -> None:
    account = await kol(client)
    kept = await _failed_from(local_app, db, account.email, "127.0.0.1", "203.0.113.9")
    assert kept == hashed(settings, "127.0.0.1")


async def test_forwarded_for_names_the_client_only_through_trusted_proxies(
    behind_proxy: Litestar, client: Client, db, settings
) -> None:
    account = await kol(client)
    proxied = await _failed_from(
        behind_proxy, db, account.email, "10.1.2.3", "203.0.113.9, 10.0.0.7"
    )
    assert proxied == hashed(settings, "203.0.113.9")
    direct = await _failed_from(behind_proxy, db, account.email, "192.0.2.1", "203.0.113.9")
    assert direct == hashed(settings, "192.0.2.1")


async def test_audit_entries_hold_no_raw_address(
    local_app: Litestar, behind_proxy: Litestar, client: Client, db
) -> None:
    account = await kol(client)
    await _failed_from(local_app, db, account.email, "127.0.0.1", "203.0.113.9")
    await _failed_from(behind_proxy, db, account.email, "10.1.2.3", "203.0.113.9, 10.0.0.7")
    columns = {
        r["column_name"]
        for r in await db.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_log'"
        )
    }
    assert "ip" not in columns and "address_hash" in columns
    stored = [str(dict(r)) for r in await db.fetch("SELECT * FROM audit_log")] + [
        str(dict(r)) for r in await db.fetch("SELECT * FROM rate_limits")
    ]
    for address in ADDRESSES:
        assert not any(address in entry for entry in stored), address


async def test_the_audit_log_refuses_a_raw_address(db) -> None:
    with pytest.raises(ValueError, match="address_hash"):
        await audit.record(db, "something_done", ip="203.0.113.9")


async def test_entries_older_than_the_retention_are_purged_by_the_worker(
    db, database_url: str, settings
) -> None:
    for subject in ("old", "recent"):
        await audit.record(db, "retention_checked", subject=subject)
    await db.execute(
        "UPDATE audit_log SET created_at = now() - interval '31 days' "
        "WHERE action = 'retention_checked' AND subject = 'old'"
    )
    await defer(db, "accounts:purge_audit_log", {"timestamp": 0}, queueing_lock="test-purge")
    kept_for_30_days = msgspec.structs.replace(settings, audit_retention_days=30)
    await asyncio.wait_for(
        run_worker(database_url, settings=kept_for_30_days, concurrency=1, wait=False), 60
    )
    left = await db.fetch("SELECT subject FROM audit_log WHERE action = 'retention_checked'")
    assert [r["subject"] for r in left] == ["recent"]


def test_trusted_proxies_are_read_and_checked() -> None:
    read = Settings.from_env({"TRUSTED_PROXIES": "10.0.0.1, 172.16.0.0/12, ::1"})
    assert read.trusted_proxies == ("10.0.0.1", "172.16.0.0/12", "::1")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(msgspec.ValidationError, match="TRUSTED_PROXIES"):
        Settings.from_env({"TRUSTED_PROXIES": "proxy.internal"})


def test_serve_leaves_forwarded_headers_to_the_app(monkeypatch) -> None:
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    result = CliRunner().invoke(main, ["serve", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is False
