"""Negotiation: briefs, offers with their revisions, and deals.

An offer's row holds the state of its latest revision (who proposed it, what the merchant
would pay, when it lapses) so that guards and budget sums read one row; every revision's full
terms and breakdown live in `offer_revisions`. A deal is made at most once per offer.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PLATFORMS = (
    "'douyin', 'xiaohongshu', 'weibo', 'wechat', 'bilibili', 'kuaishou', 'taobao_live', "
    "'instagram', 'tiktok', 'youtube'"
)
TIERS = "'nano', 'micro', 'mid', 'macro', 'mega'"
DELIVERABLES = "'post', 'short_video', 'long_video', 'live_stream', 'story'"
DEAL_STATUSES = (
    "'awaiting_funding', 'funded', 'content_submitted', 'approved', 'paid', 'closed', "
    "'cancelled', 'refunded', 'disputed'"
)


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE briefs (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            merchant_id uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
            status text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'open', 'closed', 'cancelled')),
            title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
            description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
            product_name text NOT NULL CHECK (length(product_name) BETWEEN 1 AND 200),
            product_url text NOT NULL CHECK (length(product_url) <= 500),
            category text NOT NULL,
            average_order_value bigint NOT NULL CHECK (average_order_value >= 0),
            goal_reach bigint NOT NULL DEFAULT 0 CHECK (goal_reach >= 0),
            goal_conversions bigint NOT NULL DEFAULT 0 CHECK (goal_conversions >= 0),
            budget bigint NOT NULL CHECK (budget >= 0),
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{{3}}$'),
            platforms text[] NOT NULL CHECK (platforms <@ ARRAY[{PLATFORMS}]),
            tiers text[] NOT NULL CHECK (tiers <@ ARRAY[{TIERS}]),
            deliverables text[] NOT NULL CHECK (deliverables <@ ARRAY[{DELIVERABLES}]),
            apply_by timestamptz NOT NULL,
            posting_from date NOT NULL,
            posting_until date NOT NULL CHECK (posting_until >= posting_from),
            commission_bp int NOT NULL CHECK (commission_bp BETWEEN 0 AND 10000),
            attribution_days int NOT NULL CHECK (attribution_days BETWEEN 1 AND 365),
            visibility text NOT NULL CHECK (visibility IN ('open', 'invite_only')),
            max_counter_rounds int NOT NULL CHECK (max_counter_rounds BETWEEN 0 AND 20),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            published_at timestamptz,
            closed_at timestamptz
        )
    """)
    op.execute("CREATE INDEX briefs_merchant_idx ON briefs (merchant_id, created_at, id)")
    op.execute(
        "CREATE INDEX briefs_open_idx ON briefs (published_at, id) "
        "WHERE status = 'open' AND visibility = 'open'"
    )
    op.execute("""
        CREATE TABLE offers (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            brief_id uuid NOT NULL REFERENCES briefs (id) ON DELETE CASCADE,
            merchant_id uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
            kol_id uuid NOT NULL REFERENCES kols (id) ON DELETE CASCADE,
            origin text NOT NULL CHECK (origin IN ('invitation', 'application')),
            status text NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'accepted', 'declined', 'withdrawn', 'expired')),
            latest_revision int NOT NULL DEFAULT 1 CHECK (latest_revision >= 1),
            proposed_by text NOT NULL CHECK (proposed_by IN ('merchant', 'kol')),
            commitment bigint NOT NULL CHECK (commitment >= 0),
            expires_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            closed_at timestamptz
        )
    """)
    op.execute(
        "CREATE UNIQUE INDEX offers_one_open_per_kol_idx ON offers (brief_id, kol_id) "
        "WHERE status = 'open'"
    )
    op.execute("CREATE INDEX offers_brief_idx ON offers (brief_id, status)")
    op.execute("CREATE INDEX offers_merchant_idx ON offers (merchant_id, created_at, id)")
    op.execute("CREATE INDEX offers_kol_idx ON offers (kol_id, created_at, id)")
    op.execute("CREATE INDEX offers_due_idx ON offers (expires_at) WHERE status = 'open'")
    op.execute("""
        CREATE TABLE offer_revisions (
            offer_id uuid NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
            number int NOT NULL CHECK (number >= 1),
            proposed_by text NOT NULL CHECK (proposed_by IN ('merchant', 'kol')),
            proposed_by_user uuid REFERENCES users (id) ON DELETE SET NULL,
            terms jsonb NOT NULL,
            breakdown jsonb NOT NULL,
            message text NOT NULL DEFAULT '' CHECK (length(message) <= 2000),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (offer_id, number)
        )
    """)
    op.execute(f"""
        CREATE TABLE deals (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            offer_id uuid NOT NULL UNIQUE REFERENCES offers (id),
            brief_id uuid NOT NULL REFERENCES briefs (id),
            merchant_id uuid NOT NULL REFERENCES merchants (id),
            kol_id uuid NOT NULL REFERENCES kols (id),
            revision int NOT NULL,
            status text NOT NULL DEFAULT 'awaiting_funding' CHECK (status IN ({DEAL_STATUSES})),
            terms jsonb NOT NULL,
            terms_sha256 text NOT NULL CHECK (terms_sha256 ~ '^[0-9a-f]{{64}}$'),
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{{3}}$'),
            merchant_pays bigint NOT NULL CHECK (merchant_pays >= 0),
            merchant_accepted_at timestamptz NOT NULL,
            kol_accepted_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            FOREIGN KEY (offer_id, revision) REFERENCES offer_revisions (offer_id, number)
        )
    """)
    op.execute("CREATE INDEX deals_brief_idx ON deals (brief_id, status)")
    op.execute("CREATE INDEX deals_merchant_idx ON deals (merchant_id, created_at, id)")
    op.execute("CREATE INDEX deals_kol_idx ON deals (kol_id, created_at, id)")


def downgrade() -> None:
    op.execute("DROP TABLE deals")
    op.execute("DROP TABLE offer_revisions")
    op.execute("DROP TABLE offers")
    op.execute("DROP TABLE briefs")
