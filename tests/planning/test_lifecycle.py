"""Plans end: solved, infeasible, failed with the cause named, or cancelled; a job run twice
ends its plan once; the watchdog ends plans nobody solves; values the database cannot hold
are refused at the request."""

import asyncio
import uuid
from typing import Any

import asyncpg

from contracts.common import Platform, Tier
from contracts.planning import Objective
from services.planning import rules, solving
from services.worker.app import run_worker, task_registry
from tests.helpers import Account, Client, merchant
from tests.planning.test_plans_api import ROOMY_CAPS, candidates

FINISHED = "SELECT payload FROM events WHERE aggregate_id = $1 AND type = 'plan.finished'"


async def _queued(client: Client, owner: Account, **changes: Any) -> dict[str, Any]:
    """A selection large enough for the worker (20,500 candidates under 16 constraints)."""
    problem = {"candidates": candidates(20_500), "budget": 2_000_000, **ROOMY_CAPS, **changes}
    queued = await client.post("/v1/plans/selections", json=problem, headers=owner.headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    body: dict[str, Any] = queued.json()
    return body


async def _get(client: Client, owner: Account, plan: dict[str, Any]) -> dict[str, Any]:
    found = await client.get(plan["status_url"], headers=owner.headers)
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


async def _work(database_url: str) -> None:
    await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=120)


async def test_a_plan_whose_job_fails_ends_failed_with_its_reason(
    client: Client, db: asyncpg.Connection, database_url: str
) -> None:
    owner = await merchant(client)
    plan = await _queued(client, owner)
    # What the job finds stored no longer passes the engine's checks (as after an upgrade
    # of its rules): the job must end the plan, naming the field.
    await db.execute(
        "UPDATE plans SET problem = jsonb_set(problem, '{inline,must_include}', '[\"nobody\"]')"
        " WHERE id = $1",
        uuid.UUID(plan["id"]),
    )
    await _work(database_url)
    done = await _get(client, owner, plan)
    assert done["status"] == "failed"
    assert done["failure"]["type"] == "/problems/invalid-problem"
    assert done["failure"]["field"] == "must_include[0]"
    assert "nobody" in done["failure"]["detail"]
    [event] = await db.fetch(FINISHED, uuid.UUID(plan["id"]))
    assert event["payload"]["status"] == "failed"


async def test_an_allocation_of_many_segments_goes_to_the_worker(
    client: Client, database_url: str
) -> None:
    owner = await merchant(client)
    pairs = [(p, t) for p in Platform for t in Tier]
    segments = [
        {"platform": p, "tier": t, "fee": 10_000 + 97 * i, "reach": 1_000.0 + i,
         "audience": 100_000.0, "cvr": 0.001, "available": 5_000}
        for i, (p, t) in enumerate(pairs)
    ]  # fmt: skip
    problem = {"segments": segments, "budget": 1_000_000}
    queued = await client.post("/v1/plans/allocations", json=problem, headers=owner.headers)
    assert queued.status_code == 202, queued.text
    await _work(database_url)
    done = await _get(client, owner, queued.json())
    assert done["status"] == "solved", done
    assert len(done["allocation"]["segments"]) == len(pairs)
    assert done["allocation"]["total_spend"] <= 1_000_000


async def test_a_cancelled_plan_stays_cancelled(
    client: Client, db: asyncpg.Connection, database_url: str
) -> None:
    owner = await merchant(client)
    plan = await _queued(client, owner)
    other = await merchant(client)
    hidden = await client.post(f"/v1/plans/{plan['id']}/cancel", headers=other.headers)
    assert hidden.status_code == 404
    cancelled = await client.post(f"/v1/plans/{plan['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = await client.post(f"/v1/plans/{plan['id']}/cancel", headers=owner.headers)
    assert again.status_code == 409
    assert again.json()["current"]["status"] == "cancelled"
    await _work(database_url)
    assert (await _get(client, owner, plan))["status"] == "cancelled"
    events = await db.fetch(FINISHED, uuid.UUID(plan["id"]))
    assert [e["payload"]["status"] for e in events] == ["cancelled"]
    refused = await client.post(f"/v1/plans/{plan['id']}/adopt", headers=owner.headers)
    assert refused.status_code == 409


async def test_a_job_run_twice_ends_its_plan_once(
    client: Client, db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    owner = await merchant(client)
    plan = await _queued(client, owner, time_limit_seconds=3)
    plan_id = uuid.UUID(plan["id"])
    assert (await solving.run_plan(pool, plan_id)).value == "solved"
    assert await solving.run_plan(pool, plan_id) is None
    done = await _get(client, owner, plan)
    assert done["status"] == "solved"
    assert done["stop_reason"] in ("optimal", "gap_reached", "time_limit")
    selection = done["selection"]
    assert selection["bound"] >= selection["objective_value"]
    assert "progress" not in done
    assert len(await db.fetch(FINISHED, plan_id)) == 1


async def test_a_running_plan_shows_its_progress_until_it_is_cancelled(
    client: Client, db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    owner = await merchant(client)
    plan_id = await db.fetchval(
        "INSERT INTO plans (merchant_id, kind, status, problem, started_at) "
        "VALUES ($1, 'selection', 'running', '{}', now()) RETURNING id",
        uuid.UUID(owner.me["merchant_id"]),
    )
    plan = {"status_url": f"/v1/plans/{plan_id}"}
    tracker = rules.Tracker(Objective.MAX_CONVERSIONS)
    tracker.log("incumbent 90 (dive) bound 100 gap 10.0000%")
    watcher = asyncio.create_task(solving.watch(pool, plan_id, tracker))

    async def shown() -> dict[str, Any]:
        for _ in range(300):
            if "progress" in (found := await _get(client, owner, plan)):
                return found
            await asyncio.sleep(0.1)
        raise AssertionError("the running plan never showed its progress")

    running = await shown()
    assert running["status"] == "running"
    assert (running["progress"]["objective_value"], running["progress"]["bound"]) == (90, 100)
    assert running["progress"]["gap"] == 0.1
    cancelled = await client.post(f"/v1/plans/{plan_id}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200
    assert "progress" not in cancelled.json()
    await asyncio.wait_for(watcher, timeout=30)
    assert tracker.stopped


async def test_the_watchdog_ends_plans_nobody_solves(
    client: Client, db: asyncpg.Connection
) -> None:
    owner = await merchant(client)
    merchant_id = uuid.UUID(owner.me["merchant_id"])
    insert = """
        INSERT INTO plans (merchant_id, kind, status, problem, created_at, started_at,
                           time_limit_seconds)
        VALUES ($1, 'selection', $2, '{}', now() - interval '1 hour', $3, 20)
        RETURNING id
    """
    crashed = await db.fetchval(insert, merchant_id, "running", None)
    await db.execute(
        "UPDATE plans SET started_at = now() - interval '10 minutes' WHERE id = $1", crashed
    )
    lost = await db.fetchval(insert, merchant_id, "queued", None)
    fresh = await db.fetchval(
        "INSERT INTO plans (merchant_id, kind, status, problem) VALUES ($1, 'selection', "
        "'queued', '{}') RETURNING id",
        merchant_id,
    )
    assert await solving.end_stuck_plans(db) >= 2
    found = {
        p: await _get(client, owner, {"status_url": f"/v1/plans/{p}"}) for p in (crashed, lost)
    }
    assert found[crashed]["status"] == found[lost]["status"] == "failed"
    assert found[crashed]["failure"]["type"] == "/problems/plan-overdue"
    assert "20 s" in found[crashed]["failure"]["detail"]
    assert found[lost]["failure"]["type"] == "/problems/plan-job-ended"
    assert await db.fetchval("SELECT status FROM plans WHERE id = $1", fresh) == "queued"
    await db.execute("UPDATE plans SET status = 'cancelled' WHERE id = $1", fresh)
    periodic = {t.task.name for t in task_registry().periodic_registry.periodic_tasks.values()}
    assert "planning:end_stuck_plans" in periodic


async def test_values_the_database_cannot_hold_are_refused_at_the_request(
    client: Client,
) -> None:
    owner = await merchant(client)
    for path, body, field in (
        ("/v1/plans/selections/from-catalog", {"budget": 1, "min_followers": 2**63},
         "min_followers"),
        ("/v1/plans/selections/from-catalog", {"budget": 10**14}, "budget"),
        ("/v1/plans/selections", {"candidates": [{"id": "a", "platform": "tiktok",
         "tier": "nano", "fee": 2**63, "reach": 1.0, "conversions": 1.0}], "budget": 1},
         "candidates[0].fee"),
    ):  # fmt: skip
        refused = await client.post(path, json=body, headers=owner.headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    brief_plan = await client.post(
        f"/v1/briefs/{uuid.uuid4()}/plans",
        json={"kind": "selection", "budget": 10**14},
        headers=owner.headers,
    )
    assert brief_plan.status_code == 422
    assert brief_plan.json()["errors"][0]["field"] == "budget"
