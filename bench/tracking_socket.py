"""Tracking over a real socket, as production runs: `kolmarket serve --workers N` (uvicorn with
httptools and uvloop) in processes of their own, driven by `wrk` (Debian's package) with Lua
scripts: buyers from a thousand addresses following a link, and partners sending batches of
1,000 new orders back to back. PostgreSQL is the same scratch database as the in-process
phases. Used by `bench.tracking`; each phase returns its figures.
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.support import row
from services import database

ROOT = Path(__file__).resolve().parents[1]
AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
)

# Every thread counts its answers; `done` adds them up and prints one JSON line.
COMMON_LUA = """
local threads = {}
ok, other = 0, 0
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, t in ipairs(threads) do good = good + t:get("ok"); bad = bad + t:get("other") end
  local e = summary.errors
  io.write(string.format(
    'JSON {"answers": %d, "seconds": %f, "ok": %d, "other": %d, "p50_ms": %f, ' ..
    '"p99_ms": %f, "max_ms": %f, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, good, bad, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout))
end
"""
REDIRECT_LUA = """
local agents = {%(agents)s}
local n = 0
function request()
  n = n + 1
  local a = (n * 7 + tid * 500) %% 1000
  local address = "198.51." .. math.floor(a / 250) .. "." .. (a %% 250 + 1)
  return wrk.format("GET", "%(path)s", {["User-Agent"] = agents[n %% #agents + 1],
                                        ["X-Forwarded-For"] = address})
end
function response(status, headers, body)
  if status == 302 then ok = ok + 1 else other = other + 1 end
end
"""
CONVERSIONS_LUA = """
local codes = {%(codes)s}
local n = 0
function request()
  n = n + 1
  local items = {}
  for i = 1, %(batch)d do
    local k = n * %(batch)d + i
    items[i] = string.format(
      '{"order_id":"%(prefix)s-%%d-%%d-%%d","amount":%%d,"currency":"USD",' ..
      '"occurred_at":"%(now)s","tracking_code":"%%s"}',
      tid, n, i, 2000 + k %% 9000, codes[k %% #codes + 1])
  end
  local body = '{"items":[' .. table.concat(items, ",") .. ']}'
  return wrk.format("POST", "/v1/conversions/batch",
                    {["X-API-Key"] = "%(key)s", ["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status == 200 and string.find(body, '"counts":{"pending":%(batch)d}', 1, true) then
    ok = ok + 1
  else
    other = other + 1
  end
end
"""


def _lua_list(values: list[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)


def redirect_script(code: str) -> str:
    return COMMON_LUA + REDIRECT_LUA % {"agents": _lua_list(list(AGENTS)), "path": f"/t/{code}"}


def conversions_script(codes: list[str], key: str, batch: int, now: str, prefix: str) -> str:
    """Batches of new orders whose ids start with `prefix` (one per run)."""
    values = {"codes": _lua_list(codes), "key": key, "batch": batch, "now": now}
    values["prefix"] = prefix
    return COMMON_LUA + CONVERSIONS_LUA % values


@contextmanager
def served(database_url: str, workers: int, jwt_secret: str) -> Iterator[str]:
    """`kolmarket serve --workers N` on a free port, until the block ends (SIGTERM)."""
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="kolmarket-bench-"))
    env = {
        **os.environ, "DATABASE_URL": database_url, "KOLMARKET_DATA_DIR": str(folder),
        "JWT_SECRET": jwt_secret, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
        "REQUEST_LIMIT_PER_MINUTE": str(10**9), "CLICK_LIMIT_PER_MINUTE": str(10**9),
    }  # fmt: skip
    command = [sys.executable, "-m", "services.cli", "serve", "--no-migrate"]
    command += ["--port", str(port), "--workers", str(workers)]
    with (folder / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(60)
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("kolmarket serve exited before it answered")
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("kolmarket serve did not answer in time")


def wrk(url: str, script: str, *, threads: int, connections: int, seconds: float) -> dict[str, Any]:
    """Run wrk with `script`; its summary as a dict (latencies in ms)."""
    if shutil.which("wrk") is None:
        raise SystemExit("the real-socket phases need wrk (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        command = [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
        ]
        command += ["--timeout", "10s", "-s", file.name, url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(file.name)
    line = next(x for x in output.splitlines() if x.startswith("JSON "))
    figures: dict[str, Any] = json.loads(line[5:])
    figures["per_second"] = figures["answers"] / figures["seconds"]
    return figures


def report(label: str, per_second: float, figures: dict[str, Any], stored: str) -> None:
    latency = {k[:-3]: v for k, v in figures.items() if k.endswith("_ms")}
    print(f"  {label:<46} {per_second:9.1f}/s  " + row("", latency).strip() + f"  {stored}")


def check(stored: float, acknowledged: float, what: str) -> None:
    if stored < acknowledged:
        raise SystemExit(f"{what}: {stored:.0f} stored of {acknowledged:.0f} acknowledged")


async def _count(url: str, sql: str, *args: Any) -> int:
    conn = await database.connect(url)
    try:
        found: int = await conn.fetchval(sql, *args)
        return found
    finally:
        await conn.close()


CLICKS = "SELECT count(*) FROM clicks WHERE deal_id = $1::uuid"
ORDERS = "SELECT count(*) FROM conversions WHERE order_id LIKE $1 || '-%'"
EVENTS = "SELECT count(*) FROM events WHERE type = 'conversion.recorded'"


def over_socket(
    url: str, made: dict[str, Any], key: str, args: argparse.Namespace, secret: str, batch: int
) -> None:
    """`kolmarket serve --workers N` driven by wrk; prints its figures."""
    redirect = redirect_script(made["code"])
    now = datetime.now(UTC).isoformat()
    with served(url, args.workers, secret) as base:
        wrk(base, redirect, threads=2, connections=args.connections, seconds=2)
        time.sleep(0.5)  # the warm-up's clicks are stored before counting starts
        before = asyncio.run(_count(url, CLICKS, made["deal_id"]))
        clicked = wrk(
            base, redirect, threads=2, connections=args.connections, seconds=args.socket_seconds
        )
        time.sleep(0.5)  # the recorders' next flush
        clicks = asyncio.run(_count(url, CLICKS, made["deal_id"])) - before
        events = asyncio.run(_count(url, EVENTS))
        prefix = f"wrk{time.time_ns()}"
        script = conversions_script(made["codes"], key, batch, now, prefix)
        orders = wrk(
            base, script, threads=args.partners, connections=args.partners,
            seconds=args.socket_seconds,
        )  # fmt: skip
        time.sleep(1)  # batches in flight when wrk stopped are stored, not acknowledged
        stored = asyncio.run(_count(url, ORDERS, prefix))
        events = asyncio.run(_count(url, EVENTS)) - events
    print(f"over a real socket (kolmarket serve --workers {args.workers}, wrk on loopback)")
    report(
        f"redirects, {args.connections} connections, {args.socket_seconds:g} s",
        clicked["per_second"], clicked, f"clicks stored {clicks} of {clicked['ok']} "
        f"acknowledged, {clicked['other']} other answers",
    )  # fmt: skip
    acknowledged = orders["ok"] * batch
    report(
        f"conversions, batches of {batch}, {args.partners} partners",
        acknowledged / orders["seconds"], orders, f"orders stored {stored} of {acknowledged} "
        f"acknowledged, events {events}, {orders['other']} other answers",
    )  # fmt: skip
    check(clicks, clicked["ok"], "clicks")
    check(min(stored, events), acknowledged, "orders and events")
