"""Races two people can click at once, run many times against the real database through the
real app (concurrent requests on separate pooled connections): exactly one wins, the loser gets
409 with the offer as it now is, no second deal is made and no event is lost.

RACE_ITERATIONS sets how many times each race runs (default 40)."""

import asyncio
import os
import random
import uuid
from collections import Counter
from typing import Any

from tests.helpers import Client, kol
from tests.negotiation.conftest import Parties
from tests.negotiation.support import answer, counter, events_of, invite, open_brief, terms

ITERATIONS = int(os.environ.get("RACE_ITERATIONS", "40"))
DEALS = "SELECT id FROM deals WHERE offer_id = $1"


async def _race(first: Any, second: Any) -> tuple[Any, Any]:
    """Run both requests at once, one of them (at random) a few milliseconds late, so that
    over many runs each side sometimes gets ahead; answers come in argument order."""
    late = random.randrange(2)
    delay = random.uniform(0, 0.006)

    async def run(index: int, request: Any) -> Any:
        if index == late:
            await asyncio.sleep(delay)
        return await request

    answers = await asyncio.gather(run(0, first), run(1, second))
    return answers[0], answers[1]


async def _deals(db, offer: dict[str, Any]) -> list[uuid.UUID]:
    return [r["id"] for r in await db.fetch(DEALS, uuid.UUID(offer["id"]))]


async def test_two_concurrent_accepts_make_one_deal(client: Client, db, parties: Parties) -> None:
    brief = await open_brief(client, parties.merchant, budget=10**12)
    for _ in range(ITERATIONS):
        offer = await invite(client, parties.merchant, brief["id"], parties.kol)
        a, b = await _race(
            answer(client, parties.kol, offer, "accept", 1),
            answer(client, parties.kol, offer, "accept", 1),
        )
        assert sorted((a.status_code, b.status_code)) == [200, 409], (a.text, b.text)
        winner, loser = (a, b) if a.status_code == 200 else (b, a)
        assert loser.json()["current"]["status"] == "accepted"
        assert loser.json()["current"]["deal_id"] == winner.json()["id"]
        assert await _deals(db, offer) == [uuid.UUID(winner.json()["id"])]
        assert await events_of(db, offer["id"]) == ["offer.created", "offer.accepted"]
        assert await events_of(db, winner.json()["id"]) == ["deal.created"]


async def test_an_accept_against_a_concurrent_counter(client: Client, db, parties: Parties) -> None:
    brief = await open_brief(client, parties.merchant, budget=10**12)
    wins: Counter[str] = Counter()
    for _ in range(ITERATIONS):
        offer = await invite(client, parties.merchant, brief["id"], parties.kol)
        accepted, countered = await _race(
            answer(client, parties.kol, offer, "accept", 1),
            counter(client, parties.kol, offer, 65_000, revision=1),
        )
        codes = (accepted.status_code, countered.status_code)
        assert sorted(codes) == [200, 409], (accepted.text, countered.text)
        history = await events_of(db, offer["id"])
        if accepted.status_code == 200:
            wins["accept"] += 1
            assert countered.json()["current"]["status"] == "accepted"
            assert await _deals(db, offer) == [uuid.UUID(accepted.json()["id"])]
            assert history == ["offer.created", "offer.accepted"]
        else:
            wins["counter"] += 1
            assert accepted.json()["current"]["latest_revision"] == 2
            assert await _deals(db, offer) == []
            assert history == ["offer.created", "offer.countered"]
            withdrawn = await answer(client, parties.kol, offer, "withdraw", 2)
            assert withdrawn.status_code == 200
    assert sum(wins.values()) == ITERATIONS
    print(f"accept vs counter over {ITERATIONS} races: {dict(wins)}")
    if ITERATIONS >= 20:
        assert set(wins) == {"accept", "counter"}, "each side should get ahead sometimes"


async def test_a_withdraw_against_a_concurrent_accept(client: Client, db, parties: Parties) -> None:
    brief = await open_brief(client, parties.merchant, budget=10**12)
    wins: Counter[str] = Counter()
    for _ in range(ITERATIONS):
        offer = await invite(client, parties.merchant, brief["id"], parties.kol)
        withdrawn, accepted = await _race(
            answer(client, parties.merchant, offer, "withdraw", 1),
            answer(client, parties.kol, offer, "accept", 1),
        )
        codes = (withdrawn.status_code, accepted.status_code)
        assert sorted(codes) == [200, 409], (withdrawn.text, accepted.text)
        history = await events_of(db, offer["id"])
        if accepted.status_code == 200:
            wins["accept"] += 1
            assert withdrawn.json()["current"]["status"] == "accepted"
            assert len(await _deals(db, offer)) == 1
            assert history == ["offer.created", "offer.accepted"]
        else:
            wins["withdraw"] += 1
            assert accepted.json()["current"]["status"] == "withdrawn"
            assert await _deals(db, offer) == []
            assert history == ["offer.created", "offer.withdrawn"]
    assert sum(wins.values()) == ITERATIONS
    print(f"withdraw vs accept over {ITERATIONS} races: {dict(wins)}")
    if ITERATIONS >= 20:
        assert set(wins) == {"withdraw", "accept"}, "each side should get ahead sometimes"


async def test_two_acceptances_that_together_exceed_the_budget(
    client: Client, db, parties: Parties
) -> None:
    second_kol = await kol(client)
    for _ in range(max(ITERATIONS // 4, 5)):
        # Room for one deal of 55 000, not two.
        brief = await open_brief(client, parties.merchant, budget=100_000)
        applications = [
            (
                await client.post(
                    f"/v1/briefs/{brief['id']}/applications",
                    json={"terms": terms(50_000)},
                    headers=who.headers,
                )
            ).json()
            for who in (parties.kol, second_kol)
        ]
        a, b = await _race(
            *(answer(client, parties.merchant, o, "accept", 1) for o in applications)
        )
        assert sorted((a.status_code, b.status_code)) == [200, 409], (a.text, b.text)
        committed = await db.fetchval(
            "SELECT sum(merchant_pays) FROM deals WHERE brief_id = $1", uuid.UUID(brief["id"])
        )
        assert committed == 55_000
