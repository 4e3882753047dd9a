"""Accounts and access: registration, tokens, the caller, merchant members and partner API keys."""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

Email = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="an email address; compared case-insensitively",
    ),
]
Password = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=256,
        description="at least 10 characters, not only letters or only digits",
    ),
]
Name = Annotated[str, Meta(min_length=1, max_length=200)]


class AccountRole(enum.StrEnum):
    MERCHANT = "merchant"
    KOL = "kol"
    OPERATOR = "operator"


class RegistrableRole(enum.StrEnum):
    MERCHANT = "merchant"
    KOL = "kol"


class MemberRole(enum.StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class ApiKeyStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    # The member who answers for the key left the merchant (or was disabled): it works again
    # once an owner confirms it.
    SUSPENDED = "suspended"


class ApiScope(enum.StrEnum):
    CONVERSIONS_WRITE = "conversions:write"
    DEALS_READ = "deals:read"
    DEALS_WRITE = "deals:write"  # report takedowns on the merchant's deals
    REPORTS_READ = "reports:read"
    WEBHOOKS_MANAGE = "webhooks:manage"


class RegisterIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Password
    role: RegistrableRole
    merchant_name: Name | None = None
    display_name: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    invitation: Annotated[str, Meta(min_length=10, max_length=200)] | None = None


class TokenIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Password


class RefreshIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    refresh_token: Annotated[str, Meta(min_length=10, max_length=200)]


class TokenPair(msgspec.Struct, kw_only=True):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class Me(msgspec.Struct, kw_only=True, omit_defaults=True):
    kind: str
    user_id: UUID | None = None
    email: str | None = None
    role: AccountRole | None = None
    merchant_id: UUID | None = None
    merchant_name: str | None = None
    member_role: MemberRole | None = None
    kol_id: UUID | None = None
    api_key_id: UUID | None = None
    scopes: list[ApiScope] | None = None


class MemberInviteIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    email: Email
    role: MemberRole = MemberRole.MEMBER


class InvitationOut(msgspec.Struct, kw_only=True):
    id: UUID
    email: str
    role: MemberRole
    token: str = msgspec.field(name="invitation")
    expires_at: datetime


class MemberOut(msgspec.Struct, kw_only=True):
    user_id: UUID
    email: str
    role: MemberRole
    created_at: datetime


class MemberList(msgspec.Struct, kw_only=True):
    items: list[MemberOut]


class RoleChangeIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    role: MemberRole


class ApiKeyIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[ApiScope], Meta(min_length=1, max_length=len(ApiScope))]
    expires_in_days: (
        Annotated[
            int,
            Meta(
                ge=1,
                le=730,
                description="days until the key stops working (its `expires_at` is shown); "
                "without it the key works until revoked",
            ),
        ]
        | None
    ) = None


class ApiKeyOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: UUID
    name: str
    prefix: str
    scopes: list[ApiScope]
    status: ApiKeyStatus
    created_at: datetime
    created_by: UUID
    # The member who created the key no longer belongs to the merchant (or is disabled).
    creator_removed: bool
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    # The owner who confirmed the key after its creator left, and when.
    confirmed_by: UUID | None = None
    confirmed_at: datetime | None = None


class ApiKeyCreated(msgspec.Struct, kw_only=True):
    key: ApiKeyOut
    secret: str = msgspec.field(name="secret")


class ApiKeyList(msgspec.Struct, kw_only=True):
    items: list[ApiKeyOut]


class AccountStatusOut(msgspec.Struct, kw_only=True):
    """An account as operators see it; `disabled_at` is null while it is enabled."""

    user_id: UUID
    email: str
    role: AccountRole
    disabled_at: datetime | None


class MerchantStatusOut(msgspec.Struct, kw_only=True):
    """A merchant as operators see it; `disabled_at` is null while it is enabled."""

    merchant_id: UUID
    name: str
    disabled_at: datetime | None
