"""Catalog: KOL profile checks, platform accounts, metric snapshots, authenticity reviews.

Each account row carries its latest metrics, tier, reference price and authenticity, and a
copy of its owner's categories and region (kept equal by triggers), so that search filters
one narrow row per account (audience shares as plain columns, which the planner has
statistics for); the history, as posted, lives in `kol_account_snapshots`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PLATFORMS = (
    "'douyin', 'xiaohongshu', 'weibo', 'wechat', 'bilibili', 'kuaishou', 'taobao_live', "
    "'instagram', 'tiktok', 'youtube'"
)
TIERS = "'nano', 'micro', 'mid', 'macro', 'mega'"

AGE_BANDS = ("13_17", "18_24", "25_34", "35_44", "45_54", "55_plus")
SHARE = "double precision CHECK ({0} BETWEEN 0 AND 1)"
AUDIENCE_COLUMNS = ",\n".join(
    f"{name} {SHARE.format(name)}"
    for name in (
        "audience_female",
        "audience_male",
        "audience_other",
        *(f"audience_age_{band}" for band in AGE_BANDS),
    )
)

# Search walks these in sort order (backwards for descending) and stops after one page; a
# tier filter is a followers range. The followers indexes carry the other numeric filters
# and the KOL, so that counting matches reads the index only.
COVERING = "INCLUDE (kol_id, engagement_rate, authenticity, reference_price, verified)"
SEARCH_INDEXES = {
    "kol_accounts_followers_idx": f"(followers, id) {COVERING}",
    "kol_accounts_platform_followers_idx": f"(platform, followers, id) {COVERING}",
    "kol_accounts_engagement_idx": "(engagement_rate, id)",
    "kol_accounts_authenticity_idx": "(authenticity, id)",
    "kol_accounts_price_idx": "(reference_price, id)",
    "kol_accounts_kol_categories_idx": "USING gin (kol_categories)",
    "kol_accounts_kol_region_idx": "(kol_region)",
}


def upgrade() -> None:
    op.execute("""
        ALTER TABLE kols
            ADD CONSTRAINT kols_region_code CHECK (region ~ '^[A-Z]{2}$'),
            ADD CONSTRAINT kols_languages_count CHECK (cardinality(languages) <= 10),
            ADD CONSTRAINT kols_categories_count CHECK (cardinality(categories) <= 5)
    """)
    _accounts()
    _account_indexes()
    _profile_copies()
    _history_and_reviews()


def _accounts() -> None:
    op.execute(f"""
        CREATE TABLE kol_accounts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            kol_id uuid NOT NULL REFERENCES kols (id) ON DELETE CASCADE,
            platform text NOT NULL CHECK (platform IN ({PLATFORMS})),
            handle text NOT NULL CHECK (length(handle) BETWEEN 1 AND 100),
            profile_url text NOT NULL CHECK (length(profile_url) <= 500),
            verified boolean NOT NULL DEFAULT false,
            followers bigint NOT NULL CHECK (followers >= 0),
            tier text NOT NULL CHECK (tier IN ({TIERS})),
            median_views bigint NOT NULL CHECK (median_views >= 0),
            median_likes bigint NOT NULL CHECK (median_likes >= 0),
            median_comments bigint NOT NULL CHECK (median_comments >= 0),
            engagement_rate double precision NOT NULL CHECK (engagement_rate BETWEEN 0 AND 1),
            posts_per_month double precision NOT NULL CHECK (posts_per_month BETWEEN 0 AND 1000),
            {AUDIENCE_COLUMNS},
            audience_regions jsonb CHECK ((audience_regions IS NULL) = (audience_female IS NULL)),
            kol_categories text[] NOT NULL DEFAULT '{{}}',
            kol_region text,
            reference_price bigint CHECK (reference_price >= 0),
            price_currency text NOT NULL CHECK (price_currency ~ '^[A-Z]{{3}}$'),
            rate_card_version text NOT NULL,
            computed_authenticity double precision NOT NULL
                CHECK (computed_authenticity BETWEEN 0 AND 1),
            authenticity_reasons jsonb NOT NULL DEFAULT '[]',
            authenticity_override double precision
                CHECK (authenticity_override BETWEEN 0 AND 1),
            override_note text,
            overridden_at timestamptz,
            authenticity double precision NOT NULL
                GENERATED ALWAYS AS (coalesce(authenticity_override, computed_authenticity)) STORED,
            metrics_updated_at timestamptz NOT NULL DEFAULT now(),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)


def _account_indexes() -> None:
    op.execute(
        "CREATE UNIQUE INDEX kol_accounts_handle_key ON kol_accounts (platform, lower(handle))"
    )
    op.execute("CREATE INDEX kol_accounts_kol_idx ON kol_accounts (kol_id)")
    for name, columns in SEARCH_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON kol_accounts {columns}")


def _profile_copies() -> None:
    """Accounts carry their owner's categories and region; the database keeps the copies
    equal to the profile, whoever writes it."""
    op.execute("""
        CREATE FUNCTION kol_accounts_copy_profile() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            SELECT categories, region INTO NEW.kol_categories, NEW.kol_region
            FROM kols WHERE id = NEW.kol_id;
            RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER kol_accounts_copy_profile
        BEFORE INSERT OR UPDATE OF kol_id, kol_categories, kol_region ON kol_accounts
        FOR EACH ROW EXECUTE FUNCTION kol_accounts_copy_profile()
    """)
    op.execute("""
        CREATE FUNCTION kols_share_profile() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE kol_accounts SET kol_categories = NEW.categories, kol_region = NEW.region
            WHERE kol_id = NEW.id;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER kols_share_profile AFTER UPDATE OF categories, region ON kols
        FOR EACH ROW
        WHEN (OLD.categories IS DISTINCT FROM NEW.categories
            OR OLD.region IS DISTINCT FROM NEW.region)
        EXECUTE FUNCTION kols_share_profile()
    """)


def _history_and_reviews() -> None:
    op.execute("""
        CREATE TABLE kol_account_snapshots (
            id bigint GENERATED ALWAYS AS IDENTITY,
            account_id uuid NOT NULL REFERENCES kol_accounts (id) ON DELETE CASCADE,
            taken_at timestamptz NOT NULL DEFAULT now(),
            followers bigint NOT NULL CHECK (followers >= 0),
            median_views bigint NOT NULL CHECK (median_views >= 0),
            median_likes bigint NOT NULL CHECK (median_likes >= 0),
            median_comments bigint NOT NULL CHECK (median_comments >= 0),
            engagement_rate double precision NOT NULL CHECK (engagement_rate BETWEEN 0 AND 1),
            posts_per_month double precision NOT NULL CHECK (posts_per_month BETWEEN 0 AND 1000),
            audience jsonb,
            PRIMARY KEY (account_id, id)
        )
    """)
    op.execute("""
        CREATE TABLE authenticity_overrides (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            account_id uuid NOT NULL REFERENCES kol_accounts (id) ON DELETE CASCADE,
            operator_id uuid REFERENCES users (id) ON DELETE SET NULL,
            score double precision CHECK (score BETWEEN 0 AND 1),
            verified boolean,
            note text NOT NULL CHECK (length(note) BETWEEN 1 AND 1000),
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute(
        "CREATE INDEX authenticity_overrides_account_idx ON authenticity_overrides (account_id, id)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE authenticity_overrides")
    op.execute("DROP TABLE kol_account_snapshots")
    op.execute("DROP TRIGGER kols_share_profile ON kols")
    op.execute("DROP FUNCTION kols_share_profile()")
    op.execute("DROP TABLE kol_accounts")
    op.execute("DROP FUNCTION kol_accounts_copy_profile()")
    op.execute("""
        ALTER TABLE kols
            DROP CONSTRAINT kols_categories_count,
            DROP CONSTRAINT kols_languages_count,
            DROP CONSTRAINT kols_region_code
    """)
