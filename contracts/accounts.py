"""Accounts and access: registration, tokens, the caller, merchant members and partner API keys."""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import spelled

Email = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=254,
        pattern=spelled(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
        description="an email address; compared case-insensitively",
    ),
]
Password = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=256,
        description="at registration: at least 10 characters, mixing letters with digits or "
        "symbols, and not containing the email's name",
    ),
]
Name = Annotated[str, Meta(min_length=1, max_length=200)]


class AccountRole(enum.StrEnum):
    """What an account is: a merchant's member, a KOL, or a marketplace operator."""

    MERCHANT = "merchant"
    KOL = "kol"
    OPERATOR = "operator"


class RegistrableRole(enum.StrEnum):
    """The roles an account may register with (operators never register)."""

    MERCHANT = "merchant"
    KOL = "kol"


class MemberRole(enum.StrEnum):
    """A member's role in its merchant: owners also manage members, API keys and webhook
    endpoints."""

    OWNER = "owner"
    MEMBER = "member"


class ApiKeyStatus(enum.StrEnum):
    """Whether an API key works: `active`, `expired`, `revoked`, or `suspended` (the member
    who answers for it left the merchant or was disabled; it works again once an owner
    confirms it)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    # The member who answers for the key left the merchant (or was disabled): it works again
    # once an owner confirms it.
    SUSPENDED = "suspended"


class ApiScope(enum.StrEnum):
    """What a partner API key may do for its merchant: `conversions:write` report orders and
    returns; `deals:read` read deals, their submissions, statements and disputes;
    `deals:write` report takedowns; `reports:read` read brief reports and conversions;
    `webhooks:manage` manage webhook endpoints and read the events feed."""

    CONVERSIONS_WRITE = "conversions:write"
    DEALS_READ = "deals:read"
    DEALS_WRITE = "deals:write"  # report takedowns on the merchant's deals
    REPORTS_READ = "reports:read"
    WEBHOOKS_MANAGE = "webhooks:manage"


class RegisterIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A new account. A merchant account either creates its organisation (`merchant_name`,
    whose owner it becomes) or joins one with an `invitation` sent to this email; a KOL
    account gets an empty profile named `display_name` (or the email's name). The password
    has at least 10 characters, mixes letters with digits or symbols, and does not contain
    the email's name."""

    email: Email
    password: Password
    role: RegistrableRole
    merchant_name: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=200,
                description="the organisation a merchant registers; required for a merchant "
                "without an invitation",
            ),
        ]
        | None
    ) = None
    display_name: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=100,
                description="a KOL's public name; the email's name when absent",
            ),
        ]
        | None
    ) = None
    invitation: (
        Annotated[
            str,
            Meta(
                min_length=10,
                max_length=200,
                description="the code of a member invitation to this email: the account joins "
                "that merchant with the invited role",
            ),
        ]
        | None
    ) = None


class TokenIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A login: the account's email and password."""

    email: Email
    password: Password


class RefreshIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A refresh token, as `POST /v1/auth/token` or the last refresh returned it."""

    refresh_token: Annotated[str, Meta(min_length=10, max_length=200)]


class TokenPair(msgspec.Struct, kw_only=True):
    """Tokens of one login. Send the access token as `Authorization: Bearer <access_token>`;
    trade the refresh token, once, for a new pair before or after the access token expires
    (a refresh token used twice revokes every refresh token of the login)."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: Annotated[int, Meta(description="seconds until the access token expires")]


class Me(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Who the caller is. A signed-in account has `user_id`, `email` and `role`, with its
    merchant and `member_role` for a merchant member or its `kol_id` for a KOL; a partner
    API key has `merchant_id`, `api_key_id` and `scopes`."""

    kind: Annotated[
        str, Meta(description="`merchant`, `kol` or `operator` for an account, `partner` for a key")
    ]
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
    """Whom to invite to the merchant, and with which role."""

    email: Email
    role: MemberRole = MemberRole.MEMBER


class InvitationOut(msgspec.Struct, kw_only=True):
    """A member invitation. Its code (`invitation`) is shown only in this answer: the invited
    person registers as a merchant with this email and the code before `expires_at`."""

    id: UUID
    email: str
    role: MemberRole
    token: Annotated[
        str, Meta(description="the invitation code, for `RegisterIn.invitation`; used once")
    ] = msgspec.field(name="invitation")
    expires_at: datetime


class MemberOut(msgspec.Struct, kw_only=True):
    """A member of the merchant, with its role and when it joined."""

    user_id: UUID
    email: str
    role: MemberRole
    created_at: datetime


class MemberList(msgspec.Struct, kw_only=True):
    """Every member of the merchant, oldest first."""

    items: list[MemberOut]


class RoleChangeIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The member's new role."""

    role: MemberRole


class ApiKeyIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A new partner API key: a name to recognise it by, what it may do, and how long it
    works."""

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
    """A partner API key without its secret. `status`: `active`; `expired`; `revoked`
    (final); `suspended` while no member answers for it (its creator left the merchant or
    was disabled) until an owner confirms it."""

    id: UUID
    name: str
    prefix: Annotated[
        str, Meta(description="the start of the secret (`kmk_` and 8 hex digits), to recognise it")
    ]
    scopes: list[ApiScope]
    status: ApiKeyStatus
    created_at: datetime
    created_by: Annotated[UUID, Meta(description="the member who created the key")]
    creator_removed: Annotated[
        bool,
        Meta(
            description="the member who created the key no longer belongs to the merchant "
            "(or is disabled)"
        ),
    ]
    expires_at: datetime | None = None
    last_used_at: (
        Annotated[
            datetime,
            Meta(description="when the key was last used (recorded at most once a minute)"),
        ]
        | None
    ) = None
    revoked_at: datetime | None = None
    confirmed_by: (
        Annotated[UUID, Meta(description="the owner who confirmed the key after its creator left")]
        | None
    ) = None
    confirmed_at: datetime | None = None


class ApiKeyCreated(msgspec.Struct, kw_only=True):
    """A new key with its secret, shown only in this answer: send it as `X-API-Key`. Only
    its digest is stored, so a lost secret cannot be shown again."""

    key: ApiKeyOut
    secret: str = msgspec.field(name="secret")


class ApiKeyList(msgspec.Struct, kw_only=True):
    """The merchant's API keys, newest first (at most 200), revoked and expired ones included."""

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
