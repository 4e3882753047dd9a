"""Operators come from the `kolmarket operator` command, never from registration."""

import pytest

from services.accounts.service import ensure_operator
from services.errors import Conflict
from tests.helpers import Client, kol, login, unique_email


async def test_operator_created_by_command_logs_in_with_operator_role(client: Client, db) -> None:
    email = unique_email("operator")
    await ensure_operator(db, email, "operator pass 123")
    account = await login(client, email, "operator pass 123")
    assert account.me["role"] == "operator"
    assert (await client.get("/v1/api-keys", headers=account.headers)).status_code == 403


async def test_a_merchant_or_kol_email_cannot_become_an_operator(client: Client, db) -> None:
    creator = await kol(client)
    with pytest.raises(Conflict):
        await ensure_operator(db, creator.email, "operator pass 123")
    assert (await login(client, creator.email)).me["role"] == "kol"
