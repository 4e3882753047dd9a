"""Use cases of a merchant's members: invitations, roles and removal, by its owners.

A change here is a change of the member's standing: the database tells every API process at
commit (`standing`), so a demoted owner is refused owners' operations on the next request and
a removed member acts for the merchant no more. A removed member's refresh tokens are
revoked; the API keys they created stop working until an owner confirms them (`keys`).
"""

from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.accounts import InvitationOut, MemberInviteIn, MemberOut
from services.accounts import credentials, queries
from services.accounts.rules import normalise_email
from services.accounts.service import record_change
from services.actors import Caller
from services.errors import Conflict, NotFound

log = structlog.get_logger(__name__)
LAST_OWNER = "a merchant must keep at least one owner"


async def invite_member(
    conn: asyncpg.Connection, caller: Caller, data: MemberInviteIn
) -> InvitationOut:
    token, token_hash = credentials.new_opaque_token()
    email = normalise_email(data.email)
    async with conn.transaction():
        row = await conn.fetchrow(
            queries.INSERT_INVITATION,
            caller.merchant_id,
            email,
            data.role.value,
            token_hash,
            caller.user_id,
        )
        await record_change(conn, caller, "member_invited", email, role=data.role)
    assert row is not None
    return InvitationOut(
        id=row["id"], email=email, role=row["role"], token=token, expires_at=row["expires_at"]
    )


async def list_members(conn: asyncpg.Connection, caller: Caller) -> list[MemberOut]:
    rows = await conn.fetch(queries.LIST_MEMBERS, caller.merchant_id)
    return [msgspec.convert(dict(r), MemberOut) for r in rows]


async def change_member_role(
    conn: asyncpg.Connection, caller: Caller, user_id: UUID, role: str
) -> MemberOut:
    async with conn.transaction():
        await conn.execute(queries.LOCK_MERCHANT, caller.merchant_id)
        row = await conn.fetchrow(queries.UPDATE_MEMBER_ROLE, caller.merchant_id, user_id, role)
        if row is None:
            raise NotFound("member", user_id)
        if await conn.fetchval(queries.COUNT_OWNERS, caller.merchant_id) == 0:
            raise Conflict(LAST_OWNER)
        await record_change(conn, caller, "member_role_changed", str(user_id), role=role)
    log.info("member_role_changed", member_id=str(user_id), role=role)
    return msgspec.convert(dict(row), MemberOut)


async def remove_member(conn: asyncpg.Connection, caller: Caller, user_id: UUID) -> None:
    """Take a member out of the merchant (an owner may leave too, if another owner stays)."""
    async with conn.transaction():
        await conn.execute(queries.LOCK_MERCHANT, caller.merchant_id)
        role = await conn.fetchval(queries.DELETE_MEMBER, caller.merchant_id, user_id)
        if role is None:
            raise NotFound("member", user_id)
        if await conn.fetchval(queries.COUNT_OWNERS, caller.merchant_id) == 0:
            raise Conflict(LAST_OWNER)
        revoked = await conn.execute(queries.REVOKE_USER_REFRESH, user_id)
        await record_change(
            conn,
            caller,
            "member_removed",
            str(user_id),
            role=role,
            refresh_tokens_revoked=int(revoked.split()[-1]),
        )
    log.info("member_removed", member_id=str(user_id))
