"""The OpenAPI document, proven against the running service: Schemathesis sends what the
document allows (and what it forbids) to `kolmarket serve`, as each kind of caller, and checks
every answer against the document.

    .venv/bin/python -m tests.contract.fuzz [--seconds 70]

It builds a database of its own (on `DATABASE_URL`'s server, else an embedded one), loads the
demo marketplace so operations find objects to act on, starts the local Stripe peer and the
API with raised rate limits (configuration only), then runs Schemathesis once per identity:
a partner API key with every scope (first: the merchant's run may revoke it, with an id it
reads from the key list), a demo KOL, the demo merchant's owner, and the operator (last: it
may disable the others). Half of the generated identifiers (path and query
parameters such as `brief_id`) are those of real objects of that marketplace, read from the
database and given to Schemathesis as dictionaries, so operations reach the objects
themselves and not only their 404s. It prints each run's case count and exits 1 if any run
found a failure or left its caller's credential refused.
"""

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx

from services.demo import DEMO_PASSWORD, KOL_EMAIL, MERCHANT_EMAIL, OPERATOR_EMAIL, load_demo
from services.settings import Settings
from tests.stripe_peer import TEST_API_KEY, WEBHOOK_SECRET, stripe_peer
from tests.support.database import scratch_database, temporary_server
from tests.support.processes import environment, serving

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance,negative_data_rejection,"
    "positive_data_acceptance"
)
PHASES = "examples,coverage,fuzzing,stateful"
SCOPES = ["conversions:write", "deals:read", "deals:write", "reports:read", "webhooks:manage"]
# Real identifiers by parameter name (a path or query parameter of that name anywhere in the
# document), each a value from this query, a few of every kind.
KNOWN = {
    "brief_id": "SELECT id::text FROM briefs",
    "deal_id": "SELECT id::text FROM deals",
    "offer_id": "SELECT id::text FROM offers ORDER BY created_at LIMIT 10",
    "plan_id": "SELECT id::text FROM plans",
    "kol_id": "SELECT id::text FROM kols ORDER BY user_id IS NULL, id LIMIT 10",
    "account_id": "SELECT a.id::text FROM kol_accounts a JOIN kols k ON k.id = a.kol_id"
    " ORDER BY k.user_id IS NULL, a.id LIMIT 10",
    "user_id": "SELECT id::text FROM users",
    "merchant_id": "SELECT id::text FROM merchants",
    "notification_id": "SELECT id::text FROM notifications",
    "conversion_id": "SELECT id::text FROM conversions LIMIT 10",
    "order_id": "SELECT order_id FROM conversions LIMIT 10",
    "key_id": "SELECT id::text FROM api_keys",
    "code": "SELECT code FROM tracking_links",
    "object_id": "SELECT id::text FROM deals UNION ALL SELECT id::text FROM briefs",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=70, help="time budget per identity")
    parser.add_argument("--only", choices=["merchant", "kol", "operator", "partner"])
    args = parser.parse_args()
    with _server() as server_url, scratch_database(server_url, "kolmarket_fuzz") as url:
        load_demo(url)
        with stripe_peer() as peer_url, serving(_env(url, peer_url)) as (base_url, _):
            identities = _identities(base_url)
            config = _config(asyncio.run(_known(url)))
            failed = []
            for name in ("partner", "kol", "merchant", "operator"):
                if args.only not in (None, name):
                    continue
                if _run(name, identities[name], base_url, args.seconds, config):
                    failed.append(name)
    print(f"contract fuzzing: {'failures as ' + ', '.join(failed) if failed else 'no failure'}")
    return 1 if failed else 0


@contextlib.contextmanager
def _server() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    with temporary_server() as url:
        yield url


def _env(url: str, peer_url: str) -> dict[str, str]:
    settings = Settings(
        database_url=url,
        jwt_secret="fuzz-" + "x" * 48,
        stripe_api_key=TEST_API_KEY,
        stripe_api_base=peer_url,
        stripe_webhook_secret=WEBHOOK_SECRET,
        db_pool_max=20,
    )
    return environment(settings, LOG_LEVEL="ERROR")


def _identities(base_url: str) -> dict[str, str]:
    """One credential header per kind of caller, all made through the API itself."""
    tokens = {
        name: _login(base_url, email)
        for name, email in (
            ("merchant", MERCHANT_EMAIL), ("kol", KOL_EMAIL), ("operator", OPERATOR_EMAIL),
        )
    }  # fmt: skip
    made = httpx.post(
        f"{base_url}/v1/api-keys",
        json={"name": "contract fuzzing", "scopes": SCOPES},
        headers={"Authorization": f"Bearer {tokens['merchant']}"},
    )
    made.raise_for_status()
    headers = {name: f"Authorization: Bearer {token}" for name, token in tokens.items()}
    return headers | {"partner": f"X-API-Key: {made.json()['secret']}"}


def _login(base_url: str, email: str) -> str:
    answer = httpx.post(
        f"{base_url}/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD}
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


async def _known(url: str) -> dict[str, list[str]]:
    """The identifiers of real objects, by parameter name (kinds the marketplace lacks left out)."""
    connection = await asyncpg.connect(url)
    try:
        found = {
            name: [row[0] for row in await connection.fetch(sql)] for name, sql in KNOWN.items()
        }
    finally:
        await connection.close()
    return {name: values for name, values in found.items() if values}


def _config(known: dict[str, list[str]]) -> Path:
    """schemathesis.toml with a dictionary per kind of identifier, drawn half of the time."""
    lines = [(ROOT / "schemathesis.toml").read_text(), "[parameters]"]
    lines += [f'{name} = {{ dictionary = "{name}", probability = 0.5 }}' for name in known]
    for name, values in known.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write("\n".join(lines) + "\n")
    return Path(config.name)


def _run(name: str, header: str, base_url: str, seconds: int, config: Path) -> bool:
    """One Schemathesis run as `name`; True when it found a failure."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config),
        "run", str(DOCUMENT),
        "--url", base_url, "--header", header, "--checks", CHECKS, "--phases", PHASES,
        "--max-time", str(seconds), "--workers", "1", "--no-color",
        "--suppress-health-check", "filter_too_much,too_slow",
    ]  # fmt: skip
    print(f"== contract fuzzing as {name}", flush=True)
    failed = subprocess.run(command, cwd=ROOT, check=False).returncode != 0
    # The run proves little if it locked itself out halfway (a key revoked, a member removed):
    # the credential must still work at the end.
    field, value = header.split(": ", 1)
    me = httpx.get(f"{base_url}/v1/me", headers={field: value})
    answer = "" if me.status_code == 200 else f" {me.text[:500]}"
    print(f"== credential of {name} after the run: {me.status_code}{answer}", flush=True)
    return failed or me.status_code != 200


if __name__ == "__main__":
    sys.exit(main())
