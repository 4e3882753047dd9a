"""HTTP face of accounts: auth, the caller, merchant members, partner API keys, and operators'
disabling of accounts and merchants.

Operations that hand out power (owners' role changes, removals and invitations; keys with
scopes in `rules.STEP_UP_SCOPES`; operators' disabling) need a login within the last minutes
(`recent_login`). A change of someone's standing is forgotten by this process's cache before
the answer goes out; the database tells the other processes (`standing`).
"""

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from contracts.accounts import (
    AccountStatusOut,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    InvitationOut,
    Me,
    MemberInviteIn,
    MemberList,
    MemberOut,
    MerchantStatusOut,
    RefreshIn,
    RegisterIn,
    RoleChangeIn,
    TokenIn,
    TokenPair,
)
from services.accounts import disabling, keys, members, rules, service
from services.accounts.standing import StandingCache
from services.web import (
    DB,
    PUBLIC,
    AppSettings,
    CurrentCaller,
    allow,
    client_address,
    problem_responses,
    recent_login,
    require_recent_login,
)


def _standing(request: Request[Any, Any, Any]) -> StandingCache:
    cache: StandingCache = request.app.state.standing
    return cache


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post(
        "/register",
        opt={PUBLIC: True},
        status_code=HTTP_201_CREATED,
        operation_id="register",
        summary="Register a merchant (with its organisation, or by invitation) or a KOL",
        description=(
            "Creates the account and answers who it is, as `GET /v1/me` would. A merchant "
            "registers either a new organisation (`merchant_name`, whose owner it becomes) or with "
            "an `invitation` sent to this email (joining that merchant with the invited role; "
            "`merchant_name` is then ignored); a KOL gets an empty profile named `display_name`. "
            "422 on `password` when it has fewer than 10 characters, only letters or only digits, "
            "or contains the email's name; on `merchant_name` when a merchant gives neither it nor "
            "an invitation; on `invitation` when the code is unknown, used, expired or for another "
            "email. 409 when an account with this email exists."
        ),
        responses=problem_responses(400, 409, 422, 429),
    )
    async def register(
        self, request: Request, data: JSONBody[RegisterIn], db: DB, settings: AppSettings
    ) -> Me:
        return await service.register(db, data, client_address(request), settings)

    @post(
        "/token",
        opt={PUBLIC: True},
        status_code=200,
        operation_id="createToken",
        summary="Log in with email and password; returns an access and a refresh token",
        description=(
            "Checks the password and answers an access token (valid `expires_in` seconds) and a "
            "refresh token. 401 when the email or password is wrong, or when the account or its "
            "merchant is disabled."
        ),
        responses=problem_responses(400, 401, 422, 429),
    )
    async def token(
        self, request: Request, data: JSONBody[TokenIn], db: DB, settings: AppSettings
    ) -> TokenPair:
        return await service.login(db, data.email, data.password, client_address(request), settings)

    @post(
        "/refresh",
        opt={PUBLIC: True},
        status_code=200,
        operation_id="refreshToken",
        summary="Trade a refresh token (once) for a new pair",
        description=(
            "The refresh token is used up and a new pair is answered; the new access token keeps "
            "the time of the login, for operations that need a recent one. 401 when the token is "
            "unknown, expired or revoked, or the account or its merchant is disabled. A refresh "
            "token presented a second time revokes every refresh token of its login."
        ),
        responses=problem_responses(400, 401, 422),
    )
    async def refresh(self, data: JSONBody[RefreshIn], db: DB, settings: AppSettings) -> TokenPair:
        return await service.refresh(db, data.refresh_token, settings)

    @post(
        "/logout",
        opt={PUBLIC: True},
        status_code=204,
        operation_id="logout",
        summary="Revoke a refresh token and every token issued from the same login",
        description=(
            "Revokes the refresh token and every refresh token of the same login; access tokens "
            "already issued work until they expire. An unknown token also answers 204."
        ),
        responses=problem_responses(400, 422),
    )
    async def logout(self, data: JSONBody[RefreshIn], db: DB) -> None:
        await service.logout(db, data.refresh_token)


class MeController(Controller):
    path = "/v1/me"
    tags = ["auth"]
    security = [{"BearerToken": []}, {"ApiKey": []}]

    @get(
        "/",
        operation_id="getMe",
        summary="Who the caller is: account, merchant or KOL, role, scopes",
        description=(
            "For a signed-in account: its email and role, with its merchant and member role (a "
            "merchant member) or its KOL profile id (a KOL). For an API key: its merchant and "
            "scopes."
        ),
        responses=problem_responses(401),
    )
    async def me(self, caller: CurrentCaller, db: DB) -> Me:
        return await service.me(db, caller)


class MembersController(Controller):
    path = "/v1/merchant/members"
    tags = ["auth"]
    security = [{"BearerToken": []}]
    guards = [allow("merchant", owner=True)]

    @get(
        "/",
        operation_id="listMembers",
        summary="The merchant's members and their roles",
        description=("Every member of the caller's merchant with its role, oldest first."),
        responses=problem_responses(401, 403),
    )
    async def list_members(self, caller: CurrentCaller, db: DB) -> MemberList:
        return MemberList(items=await members.list_members(db, caller))

    @post(
        "/invitations",
        operation_id="inviteMember",
        summary="Invite a member; the invitation code is shown once",
        description=(
            "Inviting an owner needs a login within the last 10 minutes. The invitation is valid "
            "for 7 days: the invited person registers as a merchant with this email and the code "
            "(`invitation`)."
        ),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def invite(
        self, request: Request, caller: CurrentCaller, data: JSONBody[MemberInviteIn], db: DB
    ) -> InvitationOut:
        if data.role == "owner":
            require_recent_login(request)
        return await members.invite_member(db, caller, data)

    @patch(
        "/{user_id:uuid}",
        guards=[recent_login],
        operation_id="changeMemberRole",
        summary="Make a member an owner or a plain member",
        description=(
            "Needs a login within the last 10 minutes. Takes effect on the member's next request. "
            "409 when the change would leave the merchant without an owner; 404 when the user is "
            "not a member of the caller's merchant."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def change_role(
        self,
        request: Request,
        caller: CurrentCaller,
        user_id: FromPath[UUID],
        data: JSONBody[RoleChangeIn],
        db: DB,
    ) -> MemberOut:
        changed = await members.change_member_role(db, caller, user_id, data.role.value)
        _standing(request).forget(user_id=user_id)
        return changed

    @delete(
        "/{user_id:uuid}",
        guards=[recent_login],
        status_code=HTTP_204_NO_CONTENT,
        operation_id="removeMember",
        summary="Remove a member from the merchant; their refresh tokens are revoked",
        description=(
            "Needs a login within the last 10 minutes. Takes effect on the member's next request; "
            "the API keys they created are suspended until an owner confirms them. An owner may "
            "remove itself. 409 when the merchant would be left without an owner; 404 when the "
            "user is not a member of the caller's merchant."
        ),
        responses=problem_responses(401, 403, 404, 409),
    )
    async def remove(
        self, request: Request, caller: CurrentCaller, user_id: FromPath[UUID], db: DB
    ) -> None:
        await members.remove_member(db, caller, user_id)
        _standing(request).forget(user_id=user_id)


class ApiKeysController(Controller):
    path = "/v1/api-keys"
    tags = ["partner keys"]
    security = [{"BearerToken": []}]
    guards = [allow("merchant", owner=True)]

    @post(
        "/",
        operation_id="createApiKey",
        summary="Create a partner API key with scopes; its secret is shown only in this answer",
        description=(
            "A key with `conversions:write` or `webhooks:manage` needs a login within the last 10 "
            "minutes. Send the secret as `X-API-Key`; only its digest is stored, so it cannot be "
            "shown again. Without `expires_in_days` the key works until revoked."
        ),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def create(
        self, request: Request, caller: CurrentCaller, data: JSONBody[ApiKeyIn], db: DB
    ) -> ApiKeyCreated:
        if rules.needs_step_up(data.scopes):
            require_recent_login(request)
        return await keys.create_api_key(db, caller, data)

    @get(
        "/",
        operation_id="listApiKeys",
        summary="The merchant's API keys: prefix, scopes, status, expiry, last use, creator",
        description=(
            "The merchant's keys, newest first (at most 200), revoked and expired ones included, "
            "each with its status and whether its creator left the merchant (`creator_removed`); "
            "secrets are never shown."
        ),
        responses=problem_responses(401, 403),
    )
    async def list_keys(self, caller: CurrentCaller, db: DB) -> ApiKeyList:
        return ApiKeyList(items=await keys.list_api_keys(db, caller))

    @post(
        "/{key_id:uuid}/confirmation",
        status_code=200,
        operation_id="confirmApiKey",
        summary="Answer for a key whose creator left the merchant, so that it works again",
        description=(
            "A key with `conversions:write` or `webhooks:manage` needs a login within the last 10 "
            "minutes. The calling owner answers for the key from now on. A key that works already "
            "is answered as it is. 409 when the key is revoked; 404 when it is not the caller's "
            "merchant's."
        ),
        responses=problem_responses(401, 403, 404, 409),
    )
    async def confirm(
        self, request: Request, caller: CurrentCaller, key_id: FromPath[UUID], db: DB
    ) -> ApiKeyOut:
        key = await keys.get_api_key(db, caller, key_id)
        if rules.needs_step_up(key.scopes):
            require_recent_login(request)
        return await keys.confirm_api_key(db, caller, key_id)

    @delete(
        "/{key_id:uuid}",
        status_code=200,
        operation_id="revokeApiKey",
        summary="Revoke an API key; it stops working at once",
        description=(
            "Requests with the key are refused from the next one on; revoking is final. A revoked "
            "key is answered as it is. 404 when the key is not the caller's merchant's."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def revoke(self, caller: CurrentCaller, key_id: FromPath[UUID], db: DB) -> ApiKeyOut:
        return await keys.revoke_api_key(db, caller, key_id)


class AccountsAdminController(Controller):
    path = "/v1"
    tags = ["operators"]
    security = [{"BearerToken": []}]
    guards = [allow("operator"), recent_login]

    @post(
        "/users/{user_id:uuid}/disable",
        status_code=200,
        operation_id="disableAccount",
        summary="Disable an account: no login, refresh tokens revoked, access refused at once",
        description=(
            "Needs a login within the last 10 minutes. The account cannot log in, its refresh "
            "tokens are revoked and its access tokens are refused from the next request; records "
            "`account.disabled`. A disabled account is answered as it is. 409 when operators would "
            "disable their own account; 404 when no account has this id."
        ),
        responses=problem_responses(401, 403, 404, 409),
    )
    async def disable_account(
        self, request: Request, caller: CurrentCaller, user_id: FromPath[UUID], db: DB
    ) -> AccountStatusOut:
        account = await disabling.disable_account(db, caller, user_id)
        _standing(request).forget(user_id=user_id)
        return account

    @post(
        "/users/{user_id:uuid}/enable",
        status_code=200,
        operation_id="enableAccount",
        summary="Enable a disabled account; it logs in anew",
        description=(
            "Needs a login within the last 10 minutes. The account may log in again; records "
            "`account.enabled`. An enabled account is answered as it is. 404 when no account has "
            "this id."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def enable_account(
        self, request: Request, caller: CurrentCaller, user_id: FromPath[UUID], db: DB
    ) -> AccountStatusOut:
        account = await disabling.enable_account(db, caller, user_id)
        _standing(request).forget(user_id=user_id)
        return account

    @post(
        "/merchants/{merchant_id:uuid}/disable",
        status_code=200,
        operation_id="disableMerchant",
        summary="Disable a merchant: its members and API keys are refused from now on",
        description=(
            "Needs a login within the last 10 minutes. The merchant's members cannot log in or act "
            "and their refresh tokens are revoked; its API keys stop working; records "
            "`merchant.disabled`. A disabled merchant is answered as it is. 404 when no merchant "
            "has this id."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def disable_merchant(
        self, request: Request, caller: CurrentCaller, merchant_id: FromPath[UUID], db: DB
    ) -> MerchantStatusOut:
        merchant = await disabling.disable_merchant(db, caller, merchant_id)
        _standing(request).forget(merchant_id=merchant_id)
        return merchant

    @post(
        "/merchants/{merchant_id:uuid}/enable",
        status_code=200,
        operation_id="enableMerchant",
        summary="Enable a disabled merchant; its members log in anew and its keys work",
        description=(
            "Needs a login within the last 10 minutes. Its members may log in again and its API "
            "keys work again; records `merchant.enabled`. An enabled merchant is answered as it "
            "is. 404 when no merchant has this id."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def enable_merchant(
        self, request: Request, caller: CurrentCaller, merchant_id: FromPath[UUID], db: DB
    ) -> MerchantStatusOut:
        merchant = await disabling.enable_merchant(db, caller, merchant_id)
        _standing(request).forget(merchant_id=merchant_id)
        return merchant


ROUTES = [
    AuthController,
    MeController,
    MembersController,
    ApiKeysController,
    AccountsAdminController,
]
