"""Webhook delivery: deliveries a second to a local receiver, and the lag from an event's
commit to its arrival at the receiver under a steady stream of events.

.venv/bin/python -m bench.webhooks [--backlog 5000] [--rate 200] [--seconds 10] [--endpoints 4]

The worker's delivery pump runs in this process against a scratch database, with the real
HTTP sender, signing every message; the receiver is an aiohttp server in a process of its
own on loopback, answering 200 and noting when each message arrived. Phase one writes a
backlog of events for a merchant with `endpoints` endpoints and times how fast the pump
empties it; phase two commits `rate` events a second (each in its own transaction) for a
merchant with one endpoint and measures each delivery's commit-to-arrival lag.
"""

import argparse
import asyncio
import multiprocessing
import socket
import time
import uuid
import warnings
from typing import Any

from bench.support import percentiles, row, scratch_database
from contracts.events import BriefClosed
from services import database, events
from services.settings import Settings
from services.webhooks.pump import Pump


def _serve(port: int, arrivals: Any) -> None:
    from aiohttp import web

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        arrivals.put((f"{request.path} {request.headers['webhook-id']}", time.time()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _setup(conn: Any, port: int, endpoints: int) -> uuid.UUID:
    merchant_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO merchants (name) VALUES ('bench') RETURNING id"
    )
    for n in range(endpoints):
        await conn.execute(
            "INSERT INTO webhook_endpoints (merchant_id, url, secret) VALUES ($1, $2, $3)",
            merchant_id, f"http://127.0.0.1:{port}/hook/{n}", "whsec_" + "a" * 43 + "=",
        )  # fmt: skip
    return merchant_id


def _event(merchant_id: uuid.UUID) -> tuple[BriefClosed, uuid.UUID, uuid.UUID, None]:
    brief_id = uuid.uuid4()
    return BriefClosed(brief_id=brief_id, merchant_id=merchant_id), brief_id, merchant_id, None


async def backlog(
    pool: Any, pump: Pump, merchant_id: uuid.UUID, n: int, fanout: int, q: Any
) -> None:
    async with pool.acquire() as conn:
        for start in range(0, n, 500):
            await events.append_many(
                conn, [_event(merchant_id) for _ in range(min(500, n - start))]
            )
    started = time.perf_counter()
    async with pump.running():
        arrived = await asyncio.to_thread(_count, q, n * fanout, time.time() + 300)
    elapsed = time.perf_counter() - started
    print(f"backlog: {arrived} deliveries of {n} events to {fanout} endpoints in {elapsed:.2f} s")
    print(f"{'deliveries/s':<40} {arrived / elapsed:10.1f}")


def _count(arrivals: Any, count: int, deadline: float) -> int:
    seen = 0
    while seen < count and time.time() < deadline:
        try:
            arrivals.get(timeout=0.5)
            seen += 1
        except Exception:  # the queue's Empty: look at the deadline again
            continue
    return seen


async def steady(
    pool: Any, pump: Pump, merchant_id: uuid.UUID, rate: int, seconds: float, q: Any
) -> None:
    committed: dict[str, float] = {}
    async with pump.running():
        collector = asyncio.create_task(asyncio.to_thread(_arrivals_for, q, seconds + 30))
        tick = 1 / rate
        next_at = time.perf_counter()
        for _ in range(int(rate * seconds)):
            async with pool.acquire() as conn, conn.transaction():
                payload, brief_id, mid, _ = _event(merchant_id)
                await events.append(conn, payload, aggregate_id=brief_id, merchant_id=mid)
                ident = await conn.fetchval(
                    "SELECT currval(pg_get_serial_sequence('events', 'id'))"
                )
            committed[f"evt_{ident}"] = time.time()
            next_at += tick
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        arrivals = await collector
    lags = [(at - committed[key.split(" ")[1]]) * 1000 for key, at in arrivals.items()]
    print(f"steady: {len(committed)} events at {rate}/s, {len(lags)} deliveries arrived")
    print(row("commit-to-arrival lag", percentiles(lags)))


def _arrivals_for(arrivals: Any, seconds: float) -> dict[str, float]:
    got: dict[str, float] = {}
    deadline = time.time() + seconds
    idle_since = time.time()
    while time.time() < deadline and time.time() - idle_since < 3:
        try:
            message_id, at = arrivals.get(timeout=0.5)
        except Exception:  # the queue's Empty: look at the deadline again
            continue
        got.setdefault(message_id, at)  # the first arrival at each endpoint
        idle_since = time.time()
    return got


async def main(args: argparse.Namespace, url: str, port: int, arrivals: Any) -> None:
    settings = Settings(
        database_url=url, log_level="WARNING", log_format="json", webhook_allow_local=True,
        webhook_concurrency=args.concurrency,
    )  # fmt: skip
    pool = await database.create_pool(url, min_size=2, max_size=8)
    try:
        async with pool.acquire() as conn:
            merchant_id = await _setup(conn, port, args.endpoints)
            steady_merchant = await _setup(conn, port, 1)
        pump = Pump(pool, settings, url=url)
        await backlog(pool, pump, merchant_id, args.backlog, args.endpoints, arrivals)
        await steady(pool, pump, steady_merchant, args.rate, args.seconds, arrivals)
        await pump.close()
    finally:
        await pool.close()


def run(args: argparse.Namespace) -> None:
    port = _free_port()
    arrivals: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(port, arrivals), daemon=True)
    server.start()
    try:
        with scratch_database() as url:
            asyncio.run(main(args, url, port, arrivals))
    finally:
        server.terminate()


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=5_000, help="events in phase one")
    parser.add_argument("--endpoints", type=int, default=4, help="endpoints receiving each event")
    parser.add_argument("--rate", type=int, default=200, help="events a second in phase two")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of phase two")
    parser.add_argument("--concurrency", type=int, default=64, help="attempts at once")
    run(parser.parse_args())
