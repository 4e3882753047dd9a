"""A deal from invitation to approval, as both sides hear of it: funding without a payout
account tells the KOL to set one up, submitted content waits for the merchant's members, the
review window's reminder comes once a day before it closes, changes requested and the
approval reach the KOL. Money moves through the Stripe peer the payments tests use."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.notifications import reminders
from services.settings import Settings
from tests.helpers import Account, Client, merchant, register, unique_email
from tests.notifications.support import kinds, notify, read_inbox, speaking
from tests.payments.conftest import (  # noqa: F401 (fixtures of the payments tests)
    inbox,
    pay_client,
    payments_settings,
    peer_url,
    stripe_api,
)
from tests.payments.delivery_support import review, submitted
from tests.payments.support import funded_deal

pytestmark = pytest.mark.slow


async def _member(client: Client, owner: Account) -> Account:
    invited = await client.post(
        "/v1/merchant/members/invitations",
        json={"email": unique_email("member"), "role": "member"},
        headers=owner.headers,
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    return await register(client, "merchant", email=body["email"], invitation=body["invitation"])


async def test_a_deal_from_funding_to_approval_notifies_each_side_of_its_part(
    pay_client: Client,  # noqa: F811
    stripe_api: Any,  # noqa: F811
    inbox: Any,  # noqa: F811
    db: Any,
    pool: Any,
    settings: Settings,
) -> None:
    owner, outsider = await merchant(pay_client), await merchant(pay_client)
    member = await _member(pay_client, owner)
    creator = await speaking(pay_client, "en", name="Leo")
    deal = await funded_deal(pay_client, stripe_api, inbox, owner, creator)
    await notify(pool, settings)
    assert await kinds(pay_client, creator) == ["payout_account_incomplete", "offer_invitation"]
    assert await kinds(pay_client, owner) == ["offer_accepted"]

    piece = await submitted(pay_client, creator, deal["id"])
    await notify(pool, settings)
    for who in (owner, member):
        (waiting, *_) = (await read_inbox(pay_client, who))["items"]
        assert (waiting["kind"], waiting["link"]) == (
            "submission_waiting", f"/deals/{deal['id']}/submissions/{piece['id']}",
        )  # fmt: skip
        assert waiting["title"].startswith("Leo submitted content")

    # The review window's reminder: not yet two days before it closes, once within 24 hours.
    due = datetime.fromisoformat(piece["review_due_at"])
    for at in (due - timedelta(hours=30), due - timedelta(hours=23), due - timedelta(hours=2)):
        await reminders.remind(db, settings, at)
    for who in (owner, member):
        assert (await kinds(pay_client, who)).count("review_closing") == 1
    assert "review_closing" not in await kinds(pay_client, creator)

    sent_back = await review(
        pay_client, owner, deal["id"], piece["id"], "request_changes", reason="Show the label"
    )
    assert sent_back.status_code == 200, sent_back.text
    for _ in range(2):
        fixed = await submitted(pay_client, creator, deal["id"])
        approved = await review(pay_client, owner, deal["id"], fixed["id"], "approve")
        assert approved.status_code == 200, approved.text
    await notify(pool, settings)
    mine = (await read_inbox(pay_client, creator))["items"]
    assert [i["kind"] for i in mine[:2]] == ["deal_approved", "changes_requested"]
    assert mine[1]["body"] == "Reason: Show the label"
    assert (await read_inbox(pay_client, outsider))["items"] == []
