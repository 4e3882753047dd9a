"""Every route says who may call it, and the app holds each kind of caller to that.

The routes are read from the app itself, so a route added without a guard fails here.
"""

import re
import uuid
from dataclasses import dataclass

import pytest
from litestar import Litestar

from services.accounts.service import ensure_operator
from services.web import PUBLIC
from tests.helpers import Client, api_key, kol, login, merchant, unique_email

ALL_SCOPES = (
    "conversions:write",
    "deals:read",
    "deals:write",
    "reports:read",
    "webhooks:manage",
)
PUBLIC_PREFIXES = ("/health", "/docs", "/static/", "/t/")


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    admitted: frozenset[str]
    scope: str | None
    owner_only: bool


def guarded_routes(app: Litestar) -> tuple[list[Rule], list[str]]:
    rules, unguarded = [], []
    for route in app.routes:
        if route.path.startswith(PUBLIC_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get(PUBLIC):
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                resolved = [getattr(g, "func", g) for g in handler.resolve_guards()]
                guards = [g for g in resolved if hasattr(g, "admitted")]
                label = f"{method} {route.path}"
                if not guards:
                    unguarded.append(label)
                    continue
                guard = guards[0]
                rules.append(
                    Rule(method, route.path, guard.admitted, guard.scope, guard.owner_only)
                )
    return rules, unguarded


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def test_every_private_route_declares_who_may_call_it(app: Litestar) -> None:
    rules, unguarded = guarded_routes(app)
    assert len(rules) >= 20
    # Any signed-in caller may ask who it is; every other route names its callers.
    assert unguarded == ["GET /v1/me"], f"routes without an allow(...) guard: {unguarded}"


@pytest.fixture
async def callers(client: Client, db) -> dict[str, dict[str, str]]:
    owner = await merchant(client)
    email = unique_email("ops")
    await ensure_operator(db, email, "operator pass 123")
    ops = await login(client, email, "operator pass 123")
    creator = await kol(client)
    every_scope = await api_key(client, owner, *ALL_SCOPES)
    return {
        "merchant": owner.headers,
        "kol": creator.headers,
        "operator": ops.headers,
        "partner": {"X-API-Key": every_scope},
    }


async def test_each_kind_of_caller_is_admitted_or_refused_as_declared(
    app: Litestar, client: Client, callers: dict[str, dict[str, str]]
) -> None:
    rules, _ = guarded_routes(app)
    checked = 0
    json_only = {"Accept": "application/json"}  # the event stream then answers at once (406)
    for rule in rules:
        path = concrete(rule.path)
        for kind, headers in callers.items():
            admitted = kind in rule.admitted or (kind == "partner" and rule.scope is not None)
            response = await client.request(
                rule.method, path, headers={**headers, **json_only}, json={}
            )
            label = f"{kind}: {rule.method} {rule.path} -> {response.status_code}"
            assert response.status_code != 500, label
            if admitted:
                assert response.status_code not in (401, 403), label
            else:
                assert response.status_code == 403, label
                assert response.headers["content-type"].startswith("application/problem+json")
            checked += 1
        anonymous = await client.request(rule.method, path, headers=json_only, json={})
        assert anonymous.status_code == 401, f"anonymous: {rule.method} {rule.path}"
    assert checked >= 4 * 20
