"""Small helpers shared by the HTTP tests: register and log in callers of each kind."""

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

PASSWORD = "correct horse 42"
Client = AsyncTestClient[Litestar]


@dataclass
class Account:
    email: str
    token: str
    refresh: str
    me: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}@example.com"


async def login(client: Client, email: str, password: str = PASSWORD) -> Account:
    response = await client.post("/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    return Account(email, tokens["access_token"], tokens["refresh_token"], me.json())


async def register(client: Client, role: str, **extra: Any) -> Account:
    email = extra.pop("email", None) or unique_email(role)
    body = {"email": email, "password": PASSWORD, "role": role, **extra}
    if role == "merchant" and "invitation" not in extra:
        body.setdefault("merchant_name", f"Shop {email[:12]}")
    response = await client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return await login(client, email)


async def merchant(client: Client) -> Account:
    return await register(client, "merchant")


async def kol(client: Client) -> Account:
    return await register(client, "kol", display_name="Creator")


async def api_key(client: Client, owner: Account, *scopes: str) -> str:
    response = await client.post(
        "/v1/api-keys", json={"name": "partner", "scopes": list(scopes)}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret
