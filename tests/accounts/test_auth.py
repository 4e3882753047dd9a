"""Registration, login, tokens and refresh tokens."""

import time

import jwt
import pytest

from tests.helpers import PASSWORD, Client, kol, login, merchant, register, unique_email

PROBLEM = "application/problem+json"


async def test_merchant_registers_with_an_organisation_and_sees_itself(client: Client) -> None:
    account = await merchant(client)
    assert account.me["kind"] == "merchant"
    assert account.me["member_role"] == "owner"
    assert account.me["merchant_name"].startswith("Shop")


async def test_email_is_normalised_and_unique(client: Client) -> None:
    email = unique_email("dup")
    await register(client, "kol", email=email.upper())
    again = await client.post(
        "/v1/auth/register", json={"email": f"  {email}", "password": PASSWORD, "role": "kol"}
    )
    assert again.status_code in (409, 422)
    clash = await client.post(
        "/v1/auth/register", json={"email": email, "password": PASSWORD, "role": "kol"}
    )
    assert clash.status_code == 409
    assert clash.headers["content-type"].startswith(PROBLEM)
    account = await login(client, email.upper())
    assert account.me["email"] == email


@pytest.mark.parametrize(
    ("password", "rule"),
    [("short1", "at least 10"), ("onlyletterslong", "mix letters"), ("1234567890123", "mix")],
)
async def test_password_policy_explains_the_rule(client: Client, password: str, rule: str) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={"email": unique_email("pw"), "password": password, "role": "kol"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "password"
    assert rule in body["errors"][0]["message"]


async def test_operator_role_cannot_be_registered(client: Client) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={"email": unique_email("op"), "password": PASSWORD, "role": "operator"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"


async def test_malformed_json_and_wrong_types_are_problems(client: Client) -> None:
    malformed = await client.post(
        "/v1/auth/token", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith(PROBLEM)
    wrong_type = await client.post("/v1/auth/token", json={"email": 42, "password": "x"})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["errors"][0]["field"] == "email"
    unknown = await client.post(
        "/v1/auth/token", json={"email": "a@b.cd", "password": "x", "admin": True}
    )
    assert unknown.status_code == 422
    assert "admin" in unknown.json()["detail"]


async def test_failed_login_does_not_reveal_whether_the_email_exists(client: Client) -> None:
    account = await kol(client)
    wrong_password = await client.post(
        "/v1/auth/token", json={"email": account.email, "password": "not the password 1"}
    )
    no_account = await client.post(
        "/v1/auth/token", json={"email": unique_email("ghost"), "password": "whatever 12345"}
    )
    assert wrong_password.status_code == no_account.status_code == 401
    assert wrong_password.json()["detail"] == no_account.json()["detail"]


async def test_tampered_expired_and_foreign_tokens_are_refused(client: Client, settings) -> None:
    account = await kol(client)
    claims = jwt.decode(account.token, options={"verify_signature": False})
    head, body, signature = account.token.split(".")
    tampered = f"{head}.{body}.{signature[:-4]}AAAA"
    foreign = jwt.encode(claims, "another secret entirely, 32 bytes+", algorithm="HS256")
    expired = jwt.encode(
        {**claims, "exp": int(time.time()) - 5}, settings.jwt_secret, algorithm="HS256"
    )
    none_alg = jwt.encode(claims, key=None, algorithm="none")
    for token in (tampered, foreign, expired, none_alg, "garbage"):
        response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.headers["content-type"].startswith(PROBLEM)
    assert (await client.get("/v1/me")).status_code == 401


async def test_refresh_rotates_and_a_used_token_cannot_be_used_again(client: Client) -> None:
    account = await merchant(client)
    first = await client.post("/v1/auth/refresh", json={"refresh_token": account.refresh})
    assert first.status_code == 200
    new_pair = first.json()
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {new_pair['access_token']}"})
    assert me.json()["merchant_id"] == account.me["merchant_id"]

    replay = await client.post("/v1/auth/refresh", json={"refresh_token": account.refresh})
    assert replay.status_code == 401
    # Reuse of a spent token revokes the whole family, including the newest token.
    after = await client.post("/v1/auth/refresh", json={"refresh_token": new_pair["refresh_token"]})
    assert after.status_code == 401


async def test_logout_revokes_the_refresh_token(client: Client) -> None:
    account = await kol(client)
    assert (
        await client.post("/v1/auth/logout", json={"refresh_token": account.refresh})
    ).status_code == 204
    response = await client.post("/v1/auth/refresh", json={"refresh_token": account.refresh})
    assert response.status_code == 401
