"""HTTP face of accounts: auth, the caller, merchant members and partner API keys."""

from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from contracts.accounts import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    InvitationOut,
    Me,
    MemberInviteIn,
    MemberList,
    MemberOut,
    RefreshIn,
    RegisterIn,
    RoleChangeIn,
    TokenIn,
    TokenPair,
)
from services.accounts import service
from services.web import DB, PUBLIC, AppSettings, CurrentCaller, allow, client_ip, problem_responses


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post(
        "/register",
        opt={PUBLIC: True},
        status_code=HTTP_201_CREATED,
        operation_id="register",
        summary="Register a merchant (with its organisation, or by invitation) or a KOL",
        responses=problem_responses(400, 409, 422, 429),
    )
    async def register(
        self, request: Request, data: JSONBody[RegisterIn], db: DB, settings: AppSettings
    ) -> Me:
        return await service.register(db, data, client_ip(request), settings)

    @post(
        "/token",
        opt={PUBLIC: True},
        status_code=200,
        operation_id="createToken",
        summary="Log in with email and password; returns an access and a refresh token",
        responses=problem_responses(400, 401, 422, 429),
    )
    async def token(
        self, request: Request, data: JSONBody[TokenIn], db: DB, settings: AppSettings
    ) -> TokenPair:
        return await service.login(db, data.email, data.password, client_ip(request), settings)

    @post(
        "/refresh",
        opt={PUBLIC: True},
        status_code=200,
        operation_id="refreshToken",
        summary="Trade a refresh token (once) for a new pair",
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
        responses=problem_responses(401, 403),
    )
    async def list_members(self, caller: CurrentCaller, db: DB) -> MemberList:
        return MemberList(items=await service.list_members(db, caller))

    @post(
        "/invitations",
        operation_id="inviteMember",
        summary="Invite a member; the invitation code is shown once",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def invite(
        self, caller: CurrentCaller, data: JSONBody[MemberInviteIn], db: DB
    ) -> InvitationOut:
        return await service.invite_member(db, caller, data)

    @patch(
        "/{user_id:uuid}",
        operation_id="changeMemberRole",
        summary="Make a member an owner or a plain member",
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def change_role(
        self,
        caller: CurrentCaller,
        user_id: FromPath[UUID],
        data: JSONBody[RoleChangeIn],
        db: DB,
    ) -> MemberOut:
        return await service.change_member_role(db, caller, user_id, data.role.value)


class ApiKeysController(Controller):
    path = "/v1/api-keys"
    tags = ["partner keys"]
    security = [{"BearerToken": []}]
    guards = [allow("merchant", owner=True)]

    @post(
        "/",
        operation_id="createApiKey",
        summary="Create a partner API key with scopes; its secret is shown only in this answer",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def create(
        self, caller: CurrentCaller, data: JSONBody[ApiKeyIn], db: DB
    ) -> ApiKeyCreated:
        return await service.create_api_key(db, caller, data)

    @get(
        "/",
        operation_id="listApiKeys",
        summary="The merchant's API keys: prefix, scopes, last use, revocation",
        responses=problem_responses(401, 403),
    )
    async def list_keys(self, caller: CurrentCaller, db: DB) -> ApiKeyList:
        return ApiKeyList(items=await service.list_api_keys(db, caller))

    @delete(
        "/{key_id:uuid}",
        status_code=200,
        operation_id="revokeApiKey",
        summary="Revoke an API key; it stops working at once",
        responses=problem_responses(401, 403, 404),
    )
    async def revoke(self, caller: CurrentCaller, key_id: FromPath[UUID], db: DB) -> ApiKeyOut:
        return await service.revoke_api_key(db, caller, key_id)


ROUTES = [AuthController, MeController, MembersController, ApiKeysController]
