"""SQL of the catalog: profiles, accounts, snapshots, reviews, and the search statements.

Search statements are assembled from the fixed fragments below; every value is a `$n`
parameter, only placeholders and column names are put into the text.
"""

import itertools
from typing import Any, Final

from contracts.common import TIER_FLOORS
from contracts.kols import AgeBand, Gender, KolSearch, SearchSort, SortOrder
from services.catalog.rules import SORT_COLUMNS, ranks_by_categories, resolve_order

INSERT_KOL = "INSERT INTO kols (user_id, display_name) VALUES ($1, $2) RETURNING id"
# A profile reads with `payout_ready`: the KOL's payout account may receive payouts.
FIND_KOL = """
    SELECT k.*,
        EXISTS (SELECT 1 FROM payout_accounts p WHERE p.kol_id = k.id AND p.payouts_enabled)
        AS payout_ready
    FROM kols k WHERE k.id = $1
"""
UPDATE_PROFILE = """
    UPDATE kols AS k SET display_name = $2, bio = $3, region = $4, languages = $5,
        categories = $6, contact_preferences = $7, updated_at = now()
    WHERE k.id = $1
    RETURNING k.*,
        EXISTS (SELECT 1 FROM payout_accounts p WHERE p.kol_id = k.id AND p.payouts_enabled)
        AS payout_ready
"""

LIST_ACCOUNTS = "SELECT * FROM kol_accounts WHERE kol_id = $1 ORDER BY followers DESC, id"
FIND_ACCOUNT = "SELECT * FROM kol_accounts WHERE id = $1 AND kol_id = $2"
LOCK_ACCOUNT = "SELECT * FROM kol_accounts WHERE id = $1 AND kol_id = $2 FOR UPDATE"
INSERT_ACCOUNT = """
    INSERT INTO kol_accounts (
        id, kol_id, platform, handle, profile_url, computed_authenticity, authenticity_reasons,
        followers, tier, median_views, median_likes, median_comments, engagement_rate,
        posts_per_month, audience_female, audience_male, audience_other, audience_age_13_17,
        audience_age_18_24, audience_age_25_34, audience_age_35_44, audience_age_45_54,
        audience_age_55_plus, audience_regions, reference_price, price_currency, rate_card_version
    ) VALUES (
        $1, $2, $3, $4, $5, $6, $7,
        $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
        $25, $26, $27
    )
    ON CONFLICT (platform, lower(handle)) DO NOTHING
    RETURNING *
"""
# A new handle or link needs a new ownership check, so it clears `verified`.
UPDATE_LINKS = """
    UPDATE kol_accounts SET handle = $3, profile_url = $4,
        verified = verified AND handle = $3 AND profile_url = $4, updated_at = now()
    WHERE id = $1 AND kol_id = $2
    RETURNING *
"""
# A snapshot without an audience keeps the account's last known audience.
UPDATE_METRICS = """
    UPDATE kol_accounts SET computed_authenticity = $3, authenticity_reasons = $4,
        followers = $5, tier = $6, median_views = $7, median_likes = $8, median_comments = $9,
        engagement_rate = $10, posts_per_month = $11,
        audience_female = coalesce($12, audience_female),
        audience_male = coalesce($13, audience_male),
        audience_other = coalesce($14, audience_other),
        audience_age_13_17 = coalesce($15, audience_age_13_17),
        audience_age_18_24 = coalesce($16, audience_age_18_24),
        audience_age_25_34 = coalesce($17, audience_age_25_34),
        audience_age_35_44 = coalesce($18, audience_age_35_44),
        audience_age_45_54 = coalesce($19, audience_age_45_54),
        audience_age_55_plus = coalesce($20, audience_age_55_plus),
        audience_regions = coalesce($21, audience_regions),
        reference_price = $22, price_currency = $23, rate_card_version = $24,
        metrics_updated_at = now(), updated_at = now()
    WHERE id = $1 AND kol_id = $2
    RETURNING *
"""
# A null score restores the computed one; the review itself stays in the history table.
UPDATE_OVERRIDE = """
    UPDATE kol_accounts SET authenticity_override = $3::float8,
        override_note = CASE WHEN $3::float8 IS NULL THEN NULL ELSE $4 END,
        overridden_at = CASE WHEN $3::float8 IS NULL THEN NULL ELSE now() END,
        verified = coalesce($5, verified), reference_price = $6, price_currency = $7,
        rate_card_version = $8, updated_at = now()
    WHERE id = $1 AND kol_id = $2
    RETURNING *
"""

INSERT_SNAPSHOT = """
    INSERT INTO kol_account_snapshots (
        account_id, followers, median_views, median_likes, median_comments, engagement_rate,
        posts_per_month, audience
    ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
# The scoring reads the most recent snapshots, oldest first (ids grow with time).
SCORING_HISTORY_SIZE: Final = 24
RECENT_HISTORY = """
    SELECT taken_at, followers, median_views, median_likes, median_comments, engagement_rate
    FROM (
        SELECT * FROM kol_account_snapshots WHERE account_id = $1 ORDER BY id DESC LIMIT $2
    ) recent
    ORDER BY id
"""
LIST_SNAPSHOTS = """
    SELECT s.id, s.taken_at, s.followers, s.median_views, s.median_likes, s.median_comments,
           s.engagement_rate, s.posts_per_month, s.audience
    FROM kol_account_snapshots s JOIN kol_accounts a ON a.id = s.account_id
    WHERE s.account_id = $1 AND a.kol_id = $2 AND s.id < $3
    ORDER BY s.id DESC LIMIT $4
"""
INSERT_OVERRIDE = """
    INSERT INTO authenticity_overrides (account_id, operator_id, score, verified, note)
    VALUES ($1, $2, $3, $4, $5)
"""
# ---- Search -------------------------------------------------------------------------------
# Conditions on one account: `{a}` is the account's alias, `{name}` the placeholder of the
# filter value of that name (see `filter_values`); a template applies when its key is set.
ACCOUNT_TERMS: Final = (
    ("platform", "{a}.platform = {platform}::text"),
    ("platforms", "{a}.platform = any({platforms}::text[])"),
    ("tiers", "{a}.tier = any({tiers}::text[])"),
    ("followers_min", "{a}.followers >= {followers_min}::bigint"),
    ("followers_max", "{a}.followers <= {followers_max}::bigint"),
    ("engagement_min", "{a}.engagement_rate >= {engagement_min}::float8"),
    ("authenticity_min", "{a}.authenticity >= {authenticity_min}::float8"),
    ("price_min", "{a}.reference_price >= {price_min}::bigint"),
    ("price_max", "{a}.reference_price <= {price_max}::bigint"),
    ("verified", "{a}.verified = {verified}::boolean"),
    ("priced", "{a}.reference_price IS NOT NULL"),
    ("audience_gender", "{a}.{audience_gender} >= {audience_gender_min}::float8"),
    ("audience_age", "{a}.{audience_age} >= {audience_age_min}::float8"),
    (
        "audience_region",
        "({a}.audience_regions ->> {audience_region}::text)::float8"
        " >= {audience_region_min}::float8",
    ),
)
# The column of each audience share; a filter names its column from here, never from input.
GENDER_COLUMNS: Final = {
    Gender.FEMALE: "audience_female",
    Gender.MALE: "audience_male",
    Gender.OTHER: "audience_other",
}
AGE_COLUMNS: Final = {
    band: "audience_age_" + band.value.replace("-", "_").replace("+", "_plus") for band in AgeBand
}
# Conditions on the owner's profile, read from the account's copy of it (see migration 0003).
KOL_TERMS: Final = (
    ("categories", "{a}.kol_categories && {categories}::text[]"),
    ("region", "{a}.kol_region = {region}::text"),
    ("regions", "{a}.kol_region = any({regions}::text[])"),
)
# One branch of a page: matching accounts in order, each KOL at its first one. The KOLs'
# names are joined to the page's few rows only.
BRANCH = """
    SELECT a.id AS account_id, a.kol_id, a.platform, a.handle, a.tier, a.followers,
        a.engagement_rate, a.authenticity, a.reference_price, a.price_currency,
        a.rate_card_version, a.verified, {relevance}::int AS relevance
    FROM {source} a
    WHERE {where}
    ORDER BY a.{column}{direction}, a.id{direction}
    LIMIT {limit}
"""
# A KOL appears once, at its first matching account in the order of the page.
NOT_OUTRANKED = """
    NOT EXISTS (
        SELECT 1 FROM kol_accounts b
        WHERE b.kol_id = a.kol_id AND {terms} AND (b.{column}, b.id) {beats} (a.{column}, a.id)
    )
"""
PAGE = """
    SELECT p.*, k.display_name, k.region, k.languages, k.categories
    FROM ({rows}) p JOIN kols k ON k.id = p.kol_id
    ORDER BY {order}
"""
# Relevance: how many of the wanted categories a KOL covers. Each level is its own branch
# (so that each can walk the index that suits it), merged in order. A level is "covers
# exactly these, none of the others" for each choice of categories, which the planner can
# estimate from the categories' statistics. The top level (all of them) is the smallest set
# and the hardest to estimate: it is always read whole through the categories index, each
# KOL keeping its first account, rather than met by chance while walking all accounts.
COVERS = "{column} @> {chosen}::text[]"
COVERS_ONLY = "({column} @> {chosen}::text[] AND NOT {column} && {others}::text[])"
BEST_OF_FEW = """(
    SELECT DISTINCT ON (a.kol_id) a.* FROM kol_accounts a WHERE {where}
    ORDER BY a.kol_id, a.followers{direction}, a.id{direction}
)"""
LEVELS = "SELECT * FROM ({branches}) levels ORDER BY {order} LIMIT {limit}"
MATCHING_KOLS = "SELECT DISTINCT a.kol_id FROM kol_accounts a WHERE {terms}"
COUNT_CAPPED = "SELECT count(*) FROM ({matching} LIMIT {cap}) matching"
ESTIMATE = "EXPLAIN (FORMAT JSON) {matching}"
SEARCH_SETTINGS = """
    SET LOCAL plan_cache_mode = force_custom_plan;
    SET LOCAL max_parallel_workers_per_gather = 0
"""


class Statement:
    """SQL text with its `$n` arguments, built fragment by fragment."""

    def __init__(self) -> None:
        self.text = ""
        self.args: list[Any] = []

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


SCALAR_FILTERS: Final = (
    *("followers_min", "followers_max", "engagement_min", "authenticity_min", "price_min"),
    *("price_max", "verified", "audience_gender_min", "audience_age_min", "audience_region"),
    "audience_region_min",
)


def filter_values(search: KolSearch) -> dict[str, Any]:
    """The search's filter values as the SQL takes them: a single platform or region is an
    equality (so that an index gives the order), contiguous tiers are a followers range."""
    values = {n: getattr(search, n) for n in SCALAR_FILTERS if getattr(search, n) is not None}
    for single, many, chosen in (
        ("platform", "platforms", search.platform),
        ("region", "regions", search.region),
    ):
        unique = sorted(set(chosen or ()))
        if unique:
            values.update({single: unique[0]} if len(unique) == 1 else {many: unique})
    if search.category:
        values["categories"] = sorted(set(search.category))
    if search.sort == SearchSort.PRICE:
        values["priced"] = True  # accounts the rate card does not quote have no price
    values.update(_tier_bounds(search))
    return values


def _tier_bounds(search: KolSearch) -> dict[str, Any]:
    if not search.tier:
        return {}
    ascending = [tier for tier, _ in sorted(TIER_FLOORS, key=lambda t: t[1])]
    floors = dict(TIER_FLOORS)
    positions = sorted({ascending.index(t) for t in search.tier})
    if positions[-1] - positions[0] + 1 != len(positions):
        return {"tiers": [ascending[i] for i in positions]}
    bounds = {"followers_min": max(floors[ascending[positions[0]]], search.followers_min or 0)}
    if positions[-1] + 1 < len(ascending):
        ceiling = floors[ascending[positions[-1] + 1]] - 1
        wanted = search.followers_max
        bounds["followers_max"] = ceiling if wanted is None else min(ceiling, wanted)
    return bounds


class Placeholders(dict[str, str]):
    """Filter values, each bound as a `$n` argument on its first use (so that every argument
    sent is used); audience filters name their share's column instead."""

    def __init__(self, st: Statement, search: KolSearch) -> None:
        super().__init__()
        self.st = st
        self.values = filter_values(search)
        if search.audience_gender is not None and search.audience_gender_min is not None:
            self["audience_gender"] = GENDER_COLUMNS[search.audience_gender]
        if search.audience_age is not None and search.audience_age_min is not None:
            self["audience_age"] = AGE_COLUMNS[search.audience_age]

    def __missing__(self, key: str) -> str:
        self[key] = self.st.bind(self.values[key])
        return self[key]

    def has(self, key: str) -> bool:
        return key in self or key in self.values


def _terms(ph: Placeholders, alias: str, templates: tuple[tuple[str, str], ...]) -> list[str]:
    return [t.replace("{a}", alias).format_map(ph) for key, t in templates if ph.has(key)]


def search_page(search: KolSearch, after: list[Any] | None, limit: int) -> Statement:
    """One page of KOLs, each at its best matching account, after the cursor's key."""
    st = Statement()
    ph = Placeholders(st, search)
    descending = resolve_order(search) == SortOrder.DESC
    direction = " DESC" if descending else ""
    if ranks_by_categories(search):
        rows = _relevance_rows(st, ph, search, after, limit, descending)
        keys = ("relevance", "followers", "account_id")
    else:
        column = SORT_COLUMNS.get(search.sort, "followers")
        where = _terms(ph, "a", ACCOUNT_TERMS + KOL_TERMS)
        rows = _branch(st, ph, column, 0, where, after, limit, descending)
        keys = (column, "account_id")
    order = ", ".join(f"p.{k}{direction}" for k in keys)
    st.text = PAGE.format(rows=rows, order=order)
    return st


def _branch(
    st: Statement,
    ph: Placeholders,
    column: str,
    relevance: int,
    where: list[str],
    after: list[Any] | None,
    limit: int,
    descending: bool,
    source: str | None = None,
) -> str:
    """Accounts in order after the cursor; with no `source`, each KOL's first one among all
    its matching accounts (`source` gives one account per KOL already)."""
    if after is not None:
        cursor = ", ".join(st.bind(v) for v in after)
        where = [*where, f"(a.{column}, a.id) {'<' if descending else '>'} ({cursor})"]
    if source is None:
        outranking = " AND ".join([*_terms(ph, "b", ACCOUNT_TERMS), "true"])
        beats = ">" if descending else "<"
        where = [*where, NOT_OUTRANKED.format(terms=outranking, column=column, beats=beats)]
    return BRANCH.format(
        relevance=relevance,
        source=source or "kol_accounts",
        where=" AND ".join([*where, "true"]),
        column=column,
        direction=" DESC" if descending else "",
        limit=st.bind(limit),
    )


def _relevance_rows(
    st: Statement,
    ph: Placeholders,
    search: KolSearch,
    after: list[Any] | None,
    limit: int,
    descending: bool,
) -> str:
    wanted = sorted(set(search.category or ()))
    # Each level's condition implies covering one of the wanted categories.
    terms = _terms(ph, "a", ACCOUNT_TERMS + tuple(t for t in KOL_TERMS if t[0] != "categories"))
    direction = " DESC" if descending else ""
    levels = range(len(wanted), 0, -1)
    branches = []
    for level in levels if descending else reversed(levels):
        if after is not None and (level > after[0] if descending else level < after[0]):
            continue
        where = [*terms, _level(st, ph, wanted, level)]
        resume = after[1:] if after is not None and level == after[0] else None
        if level == len(wanted):
            few = BEST_OF_FEW.format(where=" AND ".join(where), direction=direction)
            branch = _branch(st, ph, "followers", level, [], resume, limit, descending, few)
        else:
            branch = _branch(st, ph, "followers", level, where, resume, limit, descending)
        branches.append(f"({branch})")
    order = ", ".join(f"{k}{direction}" for k in ("relevance", "followers", "account_id"))
    return LEVELS.format(branches=" UNION ALL ".join(branches), order=order, limit=st.bind(limit))


def _level(st: Statement, ph: Placeholders, wanted: list[str], level: int) -> str:
    """KOLs covering exactly `level` of the wanted categories."""
    if level == len(wanted):
        return COVERS.format(column="a.kol_categories", chosen=ph["categories"])
    choices = []
    for chosen in itertools.combinations(wanted, level):
        others = [c for c in wanted if c not in chosen]
        choices.append(
            COVERS_ONLY.format(
                column="a.kol_categories", chosen=st.bind(list(chosen)), others=st.bind(others)
            )
        )
    return f"({' OR '.join(choices)})"


def matching_kols(search: KolSearch, cap: int | None) -> Statement:
    """KOLs with at least one matching account: capped count, or the planner's estimate."""
    st = Statement()
    ph = Placeholders(st, search)
    terms = _terms(ph, "a", ACCOUNT_TERMS + KOL_TERMS)
    matching = MATCHING_KOLS.format(terms=" AND ".join([*terms, "true"]))
    if cap is None:
        st.text = ESTIMATE.format(matching=matching)
    else:
        st.text = COUNT_CAPPED.format(matching=matching, cap=st.bind(cap))
    return st
