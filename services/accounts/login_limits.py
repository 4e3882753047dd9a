"""How many passwords may be tried, for which account, from where.

- Per address: `LOGIN_LIMIT_PER_IP` attempts a minute, whatever the account.
- Per account and address: `LOGIN_LIMIT_PER_ACCOUNT` attempts in a 15-minute window. The
  attempt is taken before the password is checked, with the check and the count in one
  statement, so concurrent requests can never have more passwords checked than that; a
  successful login starts the count again. This is the lock-out, and it locks out one
  address, not the account.
- Per account, from every address: after `LOGIN_SLOWDOWN_AFTER` failures in 15 minutes,
  addresses the account has not logged in from (in the last 90 days) get one turn per delay,
  the delay doubling with each further failure (1 s, 2 s, 4 s, ...) up to
  `LOGIN_MAX_DELAY_SECONDS`. Addresses the account has logged in from are not slowed, so a
  stranger cannot keep the owner out; from a new address the owner waits at most that delay.

Accounts are named by their normalised email, whether or not it exists, so that nothing here
tells which emails have accounts. Addresses are keyed hashes (`services.addresses`).
"""

from dataclasses import dataclass
from uuid import UUID

import asyncpg
import structlog

from services import audit
from services.accounts import queries
from services.errors import TooManyRequests
from services.settings import Settings

log = structlog.get_logger(__name__)
WINDOW = 900  # seconds in which one account's attempts and failures are counted
KNOWN_FOR_DAYS = 90

IS_KNOWN_ADDRESS = """
    SELECT EXISTS (
        SELECT 1 FROM login_addresses
        WHERE user_id = $1 AND address_hash = $2
          AND last_login_at > now() - make_interval(days => $3)
    )
"""
REMEMBER_ADDRESS = """
    INSERT INTO login_addresses (user_id, address_hash) VALUES ($1, $2)
    ON CONFLICT (user_id, address_hash) DO UPDATE SET last_login_at = now()
"""
# Takes the account's turn when the slow-down applies and the delay since the last turn or
# failure has passed; answers 0 when the attempt may go on, else the seconds to wait. The row
# lock makes concurrent attempts from new addresses take turns one at a time.
CLAIM_TURN = """
    WITH current AS (
        SELECT account,
               last_turn_at + make_interval(
                   secs => least($3::float8, 2 ^ least(failures - $2, 30))
               ) AS turn_at
        FROM login_throttles
        WHERE account = $1 AND failures >= $2
          AND last_failure_at > now() - make_interval(secs => $4)
        FOR UPDATE
    ), claimed AS (
        UPDATE login_throttles t SET last_turn_at = now()
        FROM current c WHERE t.account = c.account AND c.turn_at <= now()
        RETURNING t.account
    )
    SELECT coalesce(
        (SELECT greatest(1, ceil(extract(epoch FROM c.turn_at - now())))::int
         FROM current c WHERE NOT EXISTS (SELECT 1 FROM claimed)),
        0
    )
"""
RECORD_FAILURE = """
    INSERT INTO login_throttles AS t (account, failures, last_failure_at, last_turn_at)
    VALUES ($1, 1, now(), now())
    ON CONFLICT (account) DO UPDATE SET
        failures = CASE WHEN t.last_failure_at > now() - make_interval(secs => $2)
                        THEN t.failures + 1 ELSE 1 END,
        last_failure_at = now(),
        last_turn_at = now()
    RETURNING failures
"""
PURGE_THROTTLES = "DELETE FROM login_throttles WHERE last_failure_at < now() - interval '1 day'"
PURGE_ADDRESSES = """
    DELETE FROM login_addresses WHERE last_login_at < now() - make_interval(days => $1)
"""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One login attempt that was let through to the password check."""

    account: str  # the normalised email
    address_hash: str
    user_id: UUID | None
    known_address: bool
    number: int  # of the attempts from this address in the window

    @property
    def key(self) -> str:
        return _key(self.account, self.address_hash)


def _key(account: str, address_hash: str) -> str:
    """The rate-limit counter of one account's attempts from one address."""
    return f"login:{address_hash}:{account}"


async def admit(
    conn: asyncpg.Connection,
    account: str,
    user_id: UUID | None,
    address_hash: str,
    settings: Settings,
) -> Attempt:
    """Take one attempt for `account` from the address, or refuse with 429 and Retry-After."""
    per_ip = f"login:ip:{address_hash}"
    hits, retry_after = await queries.hit_rate_limit(conn, per_ip, 60)
    if hits > settings.login_limit_per_ip:
        raise TooManyRequests(retry_after)
    known = user_id is not None and bool(
        await conn.fetchval(IS_KNOWN_ADDRESS, user_id, address_hash, KNOWN_FOR_DAYS)
    )
    key = _key(account, address_hash)
    async with conn.transaction():
        limit = settings.login_limit_per_account
        number = await queries.take_rate_limit(conn, key, WINDOW, limit)
        if number is None:
            raise TooManyRequests(await queries.seconds_left(conn, key, WINDOW))
        if not known:
            wait = await conn.fetchval(
                CLAIM_TURN,
                account,
                settings.login_slowdown_after,
                settings.login_max_delay_seconds,
                WINDOW,
            )
            if wait:
                log.info("login_slowed_down", retry_after=wait)
                raise TooManyRequests(wait)  # the attempt taken above is rolled back
    return Attempt(account, address_hash, user_id, known, number)


async def failed(conn: asyncpg.Connection, attempt: Attempt, settings: Settings) -> None:
    """Count a wrong password against the account, and audit it (and any limit it reached)."""
    async with conn.transaction():
        failures = await conn.fetchval(RECORD_FAILURE, attempt.account, WINDOW)
        await _audit(conn, attempt, "login_failed", account_failures=failures)
        if attempt.number == settings.login_limit_per_account:
            await _audit(conn, attempt, "login_locked_for_address", attempts=attempt.number)
        if failures == settings.login_slowdown_after:
            await _audit(conn, attempt, "login_slowed_for_new_addresses", account_failures=failures)


async def succeeded(conn: asyncpg.Connection, attempt: Attempt) -> None:
    """Start the address's count again and remember it as one the account logs in from."""
    await conn.execute(queries.FORGET_RATE_LIMIT, attempt.key)
    await conn.execute(REMEMBER_ADDRESS, attempt.user_id, attempt.address_hash)


async def purge(conn: asyncpg.Connection) -> int:
    """Forget failures older than a day and addresses not used for 90 days."""
    throttles = await conn.execute(PURGE_THROTTLES)
    addresses = await conn.execute(PURGE_ADDRESSES, KNOWN_FOR_DAYS)
    return int(throttles.split()[-1]) + int(addresses.split()[-1])


async def _audit(conn: asyncpg.Connection, attempt: Attempt, action: str, **detail: object) -> None:
    await audit.record(
        conn,
        action,
        user_id=attempt.user_id,
        address_hash=attempt.address_hash,
        known_address=attempt.known_address,
        **detail,
    )
