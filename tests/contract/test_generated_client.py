"""The published OpenAPI document, used as partners use it: openapi-python-client (pinned)
generates a Python client from `openapi/openapi.json` without a warning, and that client, with
its own functions and models only, registers and logs in, lists a KOL's account and finds it in
a search, creates a brief, and reads the typed problems of an invalid brief (422) and of a
missing one (404) from `kolmarket serve` on a real socket.

The generated clients raise on any status the document does not list for an operation, so an
answer the document leaves out fails these tests too.
"""

import importlib
import json
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from services.settings import Settings
from tests.support.processes import environment, serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
PACKAGE = "kolmarket_client"
PASSWORD = "correct horse 42"
PROBLEM_JSON = "application/problem+json"
# What openapi-python-client prints beside a warning: dumps of the schema it could not use.
DUMPS = ("Schema(", "Reference(")


@dataclass(frozen=True)
class Generation:
    returncode: int
    stdout: str
    stderr: str
    folder: Path

    def warnings(self) -> list[str]:
        """Every line the generator printed about the document, without its schema dumps."""
        lines = (line.strip() for line in self.stderr.splitlines())
        return [line for line in lines if line and not line.startswith(DUMPS)]


class Api:
    """The generated package: `api("auth.register")` is `kolmarket_client.api.auth.register`,
    `model("BriefIn")` a class of `kolmarket_client.models`."""

    def __init__(self, package: ModuleType, base_url: str) -> None:
        self.package = package
        self.base_url = base_url
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def __call__(self, operation: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{operation}")

    def model(self, name: str) -> Any:
        return getattr(self.models, name)

    def anonymous(self) -> Any:
        return self.package.Client(base_url=self.base_url, raise_on_unexpected_status=True)

    def authenticated(self, token: str) -> Any:
        return self.package.AuthenticatedClient(
            base_url=self.base_url, token=token, raise_on_unexpected_status=True
        )


@pytest.fixture(scope="module")
def generation(tmp_path_factory: pytest.TempPathFactory) -> Generation:
    """The client generated from the committed document into a temporary folder."""
    folder = tmp_path_factory.mktemp("generated_client")
    config = folder / "config.json"
    # No formatting hooks: the generated code is imported, not read.
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(DOCUMENT),
        "--output-path",
        str(folder / PACKAGE),
        "--meta",
        "none",
        "--config",
        str(config),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=120)
    return Generation(done.returncode, done.stdout, done.stderr, folder)


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with serving(environment(settings)) as (url, _):
        yield url


@pytest.fixture(scope="module")
def api(generation: Generation, base_url: str) -> Iterator[Api]:
    assert generation.returncode == 0, generation.stderr
    sys.path.insert(0, str(generation.folder))
    try:
        yield Api(importlib.import_module(PACKAGE), base_url)
    finally:
        sys.path.remove(str(generation.folder))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


def sign_up(api: Api, role: str, **extra: Any) -> tuple[Any, Any]:
    """Register and log in through the generated client; the account (`Me`) and a client
    carrying its access token."""
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    body = api.model("RegisterIn")(
        email=email, password=PASSWORD, role=api.model("RegistrableRole")(role), **extra
    )
    registered = api("auth.register").sync_detailed(client=api.anonymous(), body=body)
    assert registered.status_code == HTTPStatus.CREATED, registered.content
    login = api.model("TokenIn")(email=email, password=PASSWORD)
    tokens = api("auth.create_token").sync(client=api.anonymous(), body=login)
    assert isinstance(tokens, api.model("TokenPair")), tokens
    return registered.parsed, api.authenticated(tokens.access_token)


@pytest.fixture(scope="module")
def merchant(api: Api) -> Any:
    _, client = sign_up(api, "merchant", merchant_name="Lumen Labs")
    return client


def brief(api: Api, **changes: Any) -> Any:
    """A brief body built from the generated models."""
    today = date.today()
    fields: dict[str, Any] = {
        "title": "Spring serum launch",
        "description": "Short videos showing the morning routine.",
        "product": api.model("Product")(
            name="Glow serum",
            url="https://shop.example.com/glow",
            category=api.model("Category").SKINCARE,
            average_order_value=4_999,
        ),
        "goals": api.model("Goals")(reach=200_000, conversions=500),
        "budget": 1_000_000,
        "currency": api.model("Currency").USD,
        "platforms": [api.model("Platform").TIKTOK, api.model("Platform").INSTAGRAM],
        "tiers": [api.model("Tier").NANO, api.model("Tier").MICRO],
        "deliverables": [api.model("Deliverable").SHORT_VIDEO, api.model("Deliverable").STORY],
        "timeline": api.model("Timeline")(
            apply_by=datetime.now(UTC) + timedelta(days=7),
            posting_from=today + timedelta(days=10),
            posting_until=today + timedelta(days=40),
        ),
        "commission": api.model("CommissionOffer")(commission_bp=1_500, attribution_days=30),
        "visibility": api.model("Visibility").OPEN,
    }
    return api.model("BriefIn")(**{**fields, **changes})


def test_the_client_is_generated_without_a_warning(generation: Generation) -> None:
    assert generation.returncode == 0, generation.stderr
    assert generation.warnings() == [], "\n".join(generation.warnings())


def test_generated_client_registers_and_logs_in(api: Api) -> None:
    me, client = sign_up(api, "merchant", merchant_name="Orchid Tea")

    assert isinstance(me, api.model("Me"))
    assert me.role == api.model("AccountRole").MERCHANT
    assert me.merchant_name == "Orchid Tea"
    assert me.member_role == api.model("MemberRole").OWNER
    again = api("auth.get_me").sync_detailed(client=client)
    assert again.status_code == HTTPStatus.OK
    assert isinstance(again.parsed, api.model("Me"))
    assert (again.parsed.user_id, again.parsed.merchant_id) == (me.user_id, me.merchant_id)


def test_generated_client_finds_a_kol_by_its_account(api: Api, merchant: Any) -> None:
    kol, kol_client = sign_up(api, "kol", display_name="Mia Chen")
    followers = 1_000_000 + secrets.randbelow(3_000_000)  # this account's own figure
    handle = f"mia_{uuid.uuid4().hex[:10]}"
    account = api.model("AccountIn")(
        platform=api.model("Platform").TIKTOK,
        handle=handle,
        profile_url=f"https://www.tiktok.com/@{handle}",
        metrics=api.model("MetricsIn")(
            followers=followers,
            median_views=180_000,
            median_likes=21_000,
            median_comments=900,
            engagement_rate=0.032,
            posts_per_month=14.0,
        ),
    )
    listed = api("catalog.add_my_kol_account").sync_detailed(client=kol_client, body=account)
    assert listed.status_code == HTTPStatus.CREATED, listed.content

    found = api("catalog.search_kols").sync_detailed(
        client=merchant,
        platform=[api.model("Platform").TIKTOK],
        followers_min=followers,
        followers_max=followers,
        limit=10,
    )

    assert found.status_code == HTTPStatus.OK, found.content
    page = found.parsed
    assert isinstance(page, api.model("KolPage"))
    cards = [card for card in page.items if card.id == kol.kol_id]
    assert len(cards) == 1, page.to_dict()
    assert cards[0].display_name == "Mia Chen"
    assert cards[0].account.handle == handle
    assert cards[0].account.platform == api.model("Platform").TIKTOK
    assert cards[0].account.followers == followers
    assert isinstance(cards[0].account.tier, api.model("Tier"))


def test_generated_client_creates_a_brief(api: Api, merchant: Any) -> None:
    created = api("briefs.create_brief").sync_detailed(client=merchant, body=brief(api))

    assert created.status_code == HTTPStatus.CREATED, created.content
    out = created.parsed
    assert isinstance(out, api.model("BriefOut"))
    assert out.status == api.model("BriefStatus").DRAFT
    assert (out.budget, out.currency, out.remaining) == (1_000_000, "USD", 1_000_000)
    assert out.product.category == api.model("Category").SKINCARE
    assert out.timeline.posting_from == date.today() + timedelta(days=10)
    read = api("briefs.get_brief").sync(out.id, client=merchant)
    assert isinstance(read, api.model("BriefOut"))
    assert read.id == out.id
    assert read.title == "Spring serum launch"


def test_generated_client_reads_the_typed_problem_of_an_invalid_brief(
    api: Api, merchant: Any
) -> None:
    refused = api("briefs.create_brief").sync_detailed(client=merchant, body=brief(api, budget=-1))

    assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, refused.content
    assert refused.headers["content-type"].startswith(PROBLEM_JSON)
    problem = refused.parsed
    assert isinstance(problem, api.model("Problem"))
    assert problem.status == 422
    assert problem.title == "Validation failed"
    assert [error.field for error in problem.errors] == ["budget"]
    assert all(isinstance(error, api.model("FieldError")) for error in problem.errors)
    assert "budget" in problem.detail
    assert problem.request_id


def test_generated_client_reads_the_typed_problem_of_a_missing_brief(
    api: Api, merchant: Any
) -> None:
    missing = api("briefs.get_brief").sync_detailed(uuid.uuid4(), client=merchant)

    assert missing.status_code == HTTPStatus.NOT_FOUND, missing.content
    assert missing.headers["content-type"].startswith(PROBLEM_JSON)
    problem = missing.parsed
    assert isinstance(problem, api.model("Problem"))
    assert problem.status == 404
    assert problem.type_ == "/problems/not-found"
    assert problem.title == "Not found"
