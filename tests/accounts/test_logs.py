"""Logs tell the story of each request but never carry a password, token or key."""

import json

from tests.helpers import PASSWORD, Client, api_key, merchant


async def test_no_password_token_or_key_appears_in_logs(client: Client, capsys) -> None:
    capsys.readouterr()
    owner = await merchant(client)
    secret = await api_key(client, owner, "deals:read")
    await client.get("/v1/me", headers={"X-API-Key": secret})
    await client.post("/v1/auth/refresh", json={"refresh_token": owner.refresh})
    await client.post("/v1/auth/token", json={"email": owner.email, "password": "wrong one 123"})
    await client.get("/v1/me", headers={"Authorization": f"Bearer {owner.token}x"})
    output = capsys.readouterr().err

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    events = {line["event"] for line in lines}
    assert {"account_registered", "login_succeeded", "api_key_created", "login_failed"} <= events
    assert all("request_id" in line for line in lines if line["event"] == "request_handled")
    for value in (PASSWORD, "wrong one 123", owner.token, owner.refresh, secret):
        assert value not in output


def test_bound_secrets_are_redacted_by_the_log_pipeline() -> None:
    from services.logs import REDACTED, redact_secrets

    event = redact_secrets(None, "info", {"event": "x", "password": "p", "token": "t", "ok": 1})
    assert event == {"event": "x", "password": REDACTED, "token": REDACTED, "ok": 1}
