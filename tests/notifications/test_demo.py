"""The demo's invitation gives the demo KOL an unread notification and, with SMTP_URL set,
one mail about it; loading the demo again adds neither."""

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from services import database
from services.demo import KOL_EMAIL, load_demo
from tests.notifications.conftest import SmtpBox
from tests.support.database import scratch_database

pytestmark = pytest.mark.slow

INVITATIONS = """
    SELECT n.title, n.read_at FROM notifications n JOIN users u ON u.id = n.user_id
    WHERE u.email = $1 AND n.kind = 'offer_invitation'
"""


@pytest.fixture(scope="module")
def demo_url(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, "kolmarket_demo_mail") as url:
        yield url


async def _invitations(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database.asyncpg_dsn(url))
    try:
        return await conn.fetch(INVITATIONS, KOL_EMAIL)
    finally:
        await conn.close()


async def test_the_demo_kol_has_an_unread_invitation_and_one_mail_about_it(
    demo_url: str, smtp: SmtpBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_URL", smtp.url)
    monkeypatch.setenv("APP_BASE_URL", "https://app.kolmarket.test")
    for _ in range(2):  # the loader drives its own event loop; this one answers SMTP
        await asyncio.to_thread(load_demo, demo_url)
        (invitation,) = await _invitations(demo_url)
        assert invitation["read_at"] is None
        assert invitation["title"] == "Lumen Beauty invited you to “Glow Serum launch”"
        (mail,) = smtp.to(KOL_EMAIL)
        assert mail.message["Subject"] == invitation["title"]
        assert "https://app.kolmarket.test/offers/" in mail.part("plain")
