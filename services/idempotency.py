"""Idempotency keys on creating writes: a replay returns the first answer.

A client may send `Idempotency-Key` with a create. The key is scoped to the caller and the
request's method and path, and the request is fingerprinted by the SHA-256 of its raw body.
Inside the use case's transaction the key is taken with a transaction-scoped advisory lock,
so a concurrent replay waits for the first request to finish; the answer is stored in the
same transaction as the change, so it exists exactly when the change does. A failed request
stores nothing and may be retried with the same key.
"""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import asyncpg
import msgspec
from litestar import Request
from litestar.params import HeaderParameter

from services.api.auth import Caller
from services.errors import Invalid

T = TypeVar("T")
HEADER = "Idempotency-Key"

IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        required=False,
        min_length=1,
        max_length=255,
        description=(
            "Makes the create safe to retry: a replay with the same key and body returns the "
            "first answer; the same key with a different body answers 422."
        ),
    ),
]

LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
FIND_ANSWER = """
    SELECT request_hash, status_code, response FROM idempotency_keys
    WHERE scope = $1 AND key = $2
"""
STORE_ANSWER = """
    INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)
    VALUES ($1, $2, $3, $4, $5)
"""


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    scope: str
    key: str
    request_hash: bytes


async def key_of(
    request: Request[Any, Any, Any], caller: Caller, header: str | None
) -> IdempotencyKey | None:
    """The request's idempotency key, or None when the client sent none."""
    if header is None:
        return None
    body = await request.body()
    return IdempotencyKey(
        scope=f"{caller.key} {request.method} {request.url.path}",
        key=header,
        request_hash=hashlib.sha256(body).digest(),
    )


async def once(
    conn: asyncpg.Connection,
    key: IdempotencyKey | None,
    status_code: int,
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
                raise Invalid(
                    HEADER,
                    "this key was already used with a different request body; use a new key",
                )
            return msgspec.convert(stored["response"], answer_type)
        answer = await work()
        document = msgspec.to_builtins(answer)
        await conn.execute(
            STORE_ANSWER, key.scope, key.key, key.request_hash, status_code, document
        )
        return answer
