"""HTTP face of the catalog: search and KOL pages, a KOL's own profile and accounts, reviews."""

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contracts.common import Platform, Tier
from contracts.kols import (
    AccountIn,
    AccountOut,
    AccountPatch,
    AgeBand,
    Category,
    Gender,
    KolOut,
    KolPage,
    KolSearch,
    OverrideIn,
    ProfileIn,
    RegionCode,
    SearchSort,
    SnapshotPage,
    SortOrder,
)
from services.catalog import service
from services.web import DB, CurrentCaller, Idempotency, Limit, allow, problem_responses

READERS = [allow("merchant", "operator", "kol")]
Fraction = Annotated[float | None, QueryParameter(ge=0.0, le=1.0)]
Followers = Annotated[int | None, QueryParameter(ge=0, le=5_000_000_000)]
Price = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        le=10**11,
        description="the current rate card's creator fee for one post or short video, in "
        "minor units of its currency; unquoted accounts never match",
    ),
]
Sort = Annotated[
    SearchSort,
    QueryParameter(
        description="relevance: wanted categories covered, then followers; each KOL is placed "
        "by its best matching account"
    ),
]
Order = Annotated[SortOrder | None, QueryParameter(description="default: asc for price, else desc")]
# Longer than other lists' cursors: a search's carries its sort key and its first page's count.
Cursor = Annotated[str | None, QueryParameter(max_length=512, description="next_cursor of a page")]
SnapshotCursor = Annotated[
    str | None,
    QueryParameter(pattern=r"^[0-9]{1,18}$", description="next_cursor of the previous page"),
]


def search_query(
    platform: Annotated[list[Platform] | None, QueryParameter(max_items=10)] = None,
    tier: Annotated[list[Tier] | None, QueryParameter(max_items=5)] = None,
    category: Annotated[
        list[Category] | None,
        QueryParameter(max_items=5, description="KOLs covering any of them; relevance counts them"),
    ] = None,
    region: Annotated[
        list[RegionCode] | None,
        QueryParameter(max_items=10, description="ISO 3166-1 alpha-2 codes"),
    ] = None,
    followers_min: Followers = None,
    followers_max: Followers = None,
    engagement_min: Fraction = None,
    authenticity_min: Fraction = None,
    price_min: Price = None,
    price_max: Price = None,
    verified: FromQuery[bool | None] = None,
    audience_gender: FromQuery[Gender | None] = None,
    audience_gender_min: Fraction = None,
    audience_age: FromQuery[AgeBand | None] = None,
    audience_age_min: Fraction = None,
    audience_region: Annotated[
        str | None, QueryParameter(pattern="^([A-Z]{2}|other)$", description="CN… or other")
    ] = None,
    audience_region_min: Fraction = None,
    sort: Sort = SearchSort.RELEVANCE,
    order: Order = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> KolSearch:
    """The search's query parameters; account filters must hold on one same account."""
    return KolSearch(**locals())


class CatalogController(Controller):
    path = "/v1/kols"
    tags = ["catalog"]
    security = [{"BearerToken": []}]

    @get(
        "/",
        guards=READERS,
        dependencies={"search": Provide(search_query, sync_to_thread=False)},
        operation_id="searchKols",
        summary="Search KOLs by platform account filters, profile and audience; cursor pages",
        description=(
            "Account filters (platform, tier, followers, engagement, authenticity, price, "
            "verified, audience) must hold on one same account, which places the KOL in the order. "
            "422 when `followers_min` exceeds `followers_max` or `price_min` exceeds `price_max`, "
            "an audience filter comes without its `_min` (or the reverse), a region is not a "
            "two-letter code, or `cursor` is not one this search returned."
        ),
        responses=problem_responses(400, 401, 403, 422, 429),
    )
    async def search(self, search: NamedDependency[KolSearch], db: DB) -> KolPage:
        return await service.search(db, search)

    @get(
        "/{kol_id:uuid}",
        guards=READERS,
        operation_id="getKol",
        summary="A KOL's profile and accounts, with tiers and authenticity reasons",
        description=("404 when no KOL has this id."),
        responses=problem_responses(401, 403, 404),
    )
    async def get_kol(self, kol_id: FromPath[UUID], db: DB) -> KolOut:
        return await service.get_kol(db, kol_id)

    @get(
        "/{kol_id:uuid}/accounts/{account_id:uuid}/snapshots",
        guards=READERS,
        operation_id="listKolAccountSnapshots",
        summary="An account's metric history, newest first",
        description=(
            "Every measurement recorded for the account. 404 when the account is not that KOL's."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def snapshots(
        self,
        kol_id: FromPath[UUID],
        account_id: FromPath[UUID],
        db: DB,
        limit: Limit = 20,
        cursor: SnapshotCursor = None,
    ) -> SnapshotPage:
        return await service.list_snapshots(db, kol_id, account_id, limit, cursor)

    @post(
        "/{kol_id:uuid}/accounts/{account_id:uuid}/authenticity-override",
        guards=[allow("operator")],
        status_code=HTTP_200_OK,
        operation_id="overrideAuthenticity",
        summary="Operator review: override an account's authenticity score with a note",
        description=(
            "`score` replaces the computed score (null restores it) and `verified`, when given, "
            "marks the account; its reference price is computed again at the new score. The review "
            "is kept with its note. 404 when the account is not that KOL's."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def override(
        self,
        caller: CurrentCaller,
        kol_id: FromPath[UUID],
        account_id: FromPath[UUID],
        data: JSONBody[OverrideIn],
        db: DB,
    ) -> AccountOut:
        return await service.review_authenticity(db, caller, kol_id, account_id, data)


class MyKolController(Controller):
    path = "/v1/kols/me"
    tags = ["catalog"]
    security = [{"BearerToken": []}]
    guards = [allow("kol")]

    @get(
        "/",
        operation_id="getMyKolProfile",
        summary="The calling KOL's profile and accounts",
        description=("The profile registration made, with every account the KOL listed."),
        responses=problem_responses(401, 403, 404),
    )
    async def me(self, caller: CurrentCaller, db: DB) -> KolOut:
        return await service.my_profile(db, caller)

    @put(
        "/",
        operation_id="updateMyKolProfile",
        summary="Replace the calling KOL's profile",
        description=(
            "422 when `languages`, `categories` or `contact_preferences.channels` repeat a value, "
            "or `display_name` is blank."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def update(self, caller: CurrentCaller, data: JSONBody[ProfileIn], db: DB) -> KolOut:
        return await service.update_profile(db, caller, data)

    @post(
        "/accounts",
        status_code=HTTP_201_CREATED,
        operation_id="addMyKolAccount",
        summary="List a platform account with its first metrics snapshot",
        description=(
            "Its tier, authenticity score (with reasons) and reference price are computed from the "
            "metrics. 422 when `profile_url` is not on one of the platform's hosts, or an audience "
            "dimension's shares do not add up to 1 (±0.001). 409 when the handle is already listed "
            "on that platform. Takes an `Idempotency-Key`: a repeat with the same key and body "
            "answers as the first request did, and the same key with another body answers 409."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def add_account(
        self,
        caller: CurrentCaller,
        data: JSONBody[AccountIn],
        db: DB,
        idempotency: Idempotency,
    ) -> AccountOut:
        return await service.add_account(db, caller, data, key=idempotency)

    @patch(
        "/accounts/{account_id:uuid}",
        operation_id="updateMyKolAccount",
        summary="Edit an own account's handle or link and/or record a new metrics snapshot",
        description=(
            "A new snapshot becomes the latest metrics; the authenticity score is computed again "
            "from the recent history. 422 when none of `handle`, `profile_url` and `metrics` is "
            "given, `profile_url` is not on one of the platform's hosts, or an audience "
            "dimension's shares do not add up to 1. 409 when the handle is already listed on the "
            "platform; 404 when the account is not the KOL's."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def update_account(
        self,
        caller: CurrentCaller,
        account_id: FromPath[UUID],
        data: JSONBody[AccountPatch],
        db: DB,
    ) -> AccountOut:
        return await service.update_account(db, caller, account_id, data)


ROUTES = [MyKolController, CatalogController]
