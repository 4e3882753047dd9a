"""Idempotency keys on creating writes: a replay returns the first answer.

A client may send `Idempotency-Key` with a create. The key is scoped to the caller and the
request's method and path, and the request is fingerprinted by the SHA-256 of its raw body.
Inside the use case's transaction the key is taken with a transaction-scoped advisory lock,
so a concurrent replay waits for the first request to finish; the answer is stored in the
same transaction as the change, so it exists exactly when the change does. A failed request
stores nothing and may be retried with the same key.
"""

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar, get_type_hints

import asyncpg
import msgspec

from services.errors import Conflict

T = TypeVar("T")
P = ParamSpec("P")
HEADER = "Idempotency-Key"

LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
FIND_ANSWER = """
    SELECT request_hash, response FROM idempotency_keys
    WHERE scope = $1 AND key = $2
"""
STORE_ANSWER = """
    INSERT INTO idempotency_keys (scope, key, request_hash, response) VALUES ($1, $2, $3, $4)
"""


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    scope: str
    key: str
    request_hash: bytes


async def once(
    conn: asyncpg.Connection,
    key: IdempotencyKey | None,
    answer_type: type[T],
    work: Callable[[], Awaitable[T]],
) -> T:
    """Run `work` in one transaction, unless `key` was used before: then answer as the first time.

    The key's lock, the work and the stored answer share that transaction, so an answer is
    kept exactly when the change it describes is committed.
    """
    async with conn.transaction():
        if key is None:
            return await work()
        await conn.execute(LOCK_KEY, f"{key.scope}\n{key.key}")
        stored = await conn.fetchrow(FIND_ANSWER, key.scope, key.key)
        if stored is not None:
            if bytes(stored["request_hash"]) != key.request_hash:
                raise Conflict(
                    "this key was already used with a different request body; use a new key",
                    field=HEADER,
                )
            return msgspec.convert(stored["response"], answer_type)
        answer = await work()
        document = msgspec.to_builtins(answer)
        await conn.execute(STORE_ANSWER, key.scope, key.key, key.request_hash, document)
        return answer


def idempotent(
    work: Callable[Concatenate[asyncpg.Connection, P], Awaitable[T]],
) -> Callable[..., Awaitable[T]]:
    """Make a use case honour an idempotency key: it gains a keyword argument `key` and runs,
    with the key's lock and stored answer, in one transaction (see `once`)."""
    answer_type = get_type_hints(work)["return"]

    @functools.wraps(work)
    async def run(
        conn: asyncpg.Connection, *args: Any, key: IdempotencyKey | None = None, **kwargs: Any
    ) -> T:
        return await once(conn, key, answer_type, lambda: work(conn, *args, **kwargs))

    return run
