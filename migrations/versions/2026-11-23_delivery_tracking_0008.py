"""Delivery, tracking and disputes: each brief's delivery policy, content submissions and their
review, tracking links and clicks, partners' conversions with their commission, and disputes
opened by takedown reports.

A conversion counts once per merchant and order id: the partial unique index leaves room for
rejected reports only, so a corrected report of a rejected order can still count. Clicks carry
an id made by the API, so the redirect can hand it to the shop before the row is written.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CURRENCY = "CHECK (currency ~ '^[A-Z]{3}$')"
ENTRY_KINDS = "'funding', 'release', 'payout', 'refund', 'commission', 'settlement'"
CONVERSION_STATUSES = "'pending', 'approved', 'paid', 'reversed', 'rejected', 'held'"


def upgrade() -> None:
    _policy()
    _submissions()
    _tracking()
    _conversions()
    _disputes()


def _policy() -> None:
    """What a brief promises about delivery, shown to KOLs before they apply."""
    op.execute("""
        ALTER TABLE briefs
            ADD COLUMN review_days int NOT NULL DEFAULT 3 CHECK (review_days BETWEEN 1 AND 30),
            ADD COLUMN min_live_days int NOT NULL DEFAULT 30
                CHECK (min_live_days BETWEEN 0 AND 365),
            ADD COLUMN return_days int NOT NULL DEFAULT 14 CHECK (return_days BETWEEN 0 AND 90),
            ADD COLUMN click_required boolean NOT NULL DEFAULT false
    """)
    op.execute("ALTER TABLE deals ADD COLUMN approved_at timestamptz")
    op.execute("ALTER TABLE payouts DROP CONSTRAINT payouts_status_check")
    op.execute("""
        ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
            CHECK (status IN ('scheduled', 'paused', 'paid', 'cancelled'))
    """)
    op.execute("ALTER TABLE payouts DROP CONSTRAINT payouts_amount_check")
    op.execute("ALTER TABLE payouts ADD CONSTRAINT payouts_amount_check CHECK (amount >= 0)")
    op.execute("ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check")
    op.execute(f"""
        ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
            CHECK (kind IN ({ENTRY_KINDS}, 'clawback'))
    """)


def _submissions() -> None:
    op.execute("""
        CREATE TABLE submissions (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            deal_id uuid NOT NULL REFERENCES deals (id),
            deliverable int NOT NULL CHECK (deliverable BETWEEN 0 AND 19),
            platform text NOT NULL,
            url text NOT NULL CHECK (length(url) BETWEEN 1 AND 500),
            posted_at timestamptz NOT NULL,
            metrics jsonb,
            status text NOT NULL DEFAULT 'submitted'
                CHECK (status IN ('submitted', 'changes_requested', 'approved', 'taken_down')),
            review_due_at timestamptz NOT NULL,
            reason text CHECK (length(reason) <= 1000),
            reviewed_at timestamptz,
            auto_approved boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX submissions_deal_idx ON submissions (deal_id, created_at, id)")
    op.execute(
        "CREATE INDEX submissions_review_due_idx ON submissions (review_due_at) "
        "WHERE status = 'submitted'"
    )
    op.execute(
        "CREATE UNIQUE INDEX submissions_url_idx ON submissions (deal_id, url) "
        "WHERE status <> 'changes_requested'"
    )


def _tracking() -> None:
    op.execute("""
        CREATE TABLE tracking_links (
            code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{8,32}$'),
            deal_id uuid NOT NULL UNIQUE REFERENCES deals (id),
            merchant_id uuid NOT NULL REFERENCES merchants (id),
            destination text NOT NULL CHECK (length(destination) <= 500),
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    # Deals made before tracking existed get their link now.
    op.execute("""
        INSERT INTO tracking_links (code, deal_id, merchant_id, destination)
        SELECT substr(replace(gen_random_uuid()::text, '-', ''), 1, 12), d.id, d.merchant_id,
               b.product_url
        FROM deals d JOIN briefs b ON b.id = d.brief_id
    """)
    op.execute("""
        CREATE TABLE clicks (
            id uuid PRIMARY KEY,
            deal_id uuid NOT NULL REFERENCES deals (id),
            clicked_at timestamptz NOT NULL,
            visitor text,
            user_agent text CHECK (length(user_agent) <= 500),
            referrer text CHECK (length(referrer) <= 500)
        )
    """)
    op.execute("CREATE INDEX clicks_deal_idx ON clicks (deal_id, clicked_at)")


def _conversions() -> None:
    op.execute(f"""
        CREATE TABLE conversions (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            merchant_id uuid NOT NULL REFERENCES merchants (id),
            order_id text NOT NULL CHECK (length(order_id) BETWEEN 1 AND 200),
            deal_id uuid REFERENCES deals (id),
            click_id uuid,
            tracking_code text CHECK (length(tracking_code) <= 64),
            amount bigint NOT NULL CHECK (amount >= 0),
            currency text NOT NULL {CURRENCY},
            occurred_at timestamptz NOT NULL,
            buyer_ref text CHECK (length(buyer_ref) <= 200),
            status text NOT NULL CHECK (status IN ({CONVERSION_STATUSES})),
            reasons text[] NOT NULL DEFAULT '{{}}',
            commission bigint NOT NULL DEFAULT 0 CHECK (commission >= 0),
            platform_cut bigint NOT NULL DEFAULT 0
                CHECK (platform_cut >= 0 AND platform_cut <= commission),
            hold_until timestamptz,
            accrual_id uuid REFERENCES commission_accruals (id),
            received_at timestamptz NOT NULL DEFAULT now(),
            decided_at timestamptz,
            reversal_reason text CHECK (length(reversal_reason) <= 500)
        )
    """)
    op.execute(
        "CREATE UNIQUE INDEX conversions_order_idx ON conversions (merchant_id, order_id) "
        "WHERE status <> 'rejected'"
    )
    op.execute("CREATE INDEX conversions_deal_idx ON conversions (deal_id, occurred_at)")
    op.execute(
        "CREATE INDEX conversions_hold_idx ON conversions (hold_until) WHERE status = 'pending'"
    )
    op.execute(
        "CREATE INDEX conversions_click_idx ON conversions (click_id) WHERE click_id IS NOT NULL"
    )
    op.execute("CREATE INDEX conversions_accrual_idx ON conversions (accrual_id)")


def _disputes() -> None:
    op.execute("""
        CREATE TABLE disputes (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            deal_id uuid NOT NULL REFERENCES deals (id),
            submission_id uuid REFERENCES submissions (id),
            kind text NOT NULL CHECK (kind IN ('takedown')),
            opened_by text NOT NULL CHECK (opened_by IN ('merchant', 'partner', 'operator')),
            note text NOT NULL CHECK (length(note) BETWEEN 1 AND 2000),
            observed_at timestamptz,
            prior_status text NOT NULL,
            status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
            outcome text CHECK (outcome IN ('pay_kol', 'refund')),
            refund_amount bigint CHECK (refund_amount >= 0),
            resolution_note text CHECK (length(resolution_note) <= 2000),
            resolved_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE UNIQUE INDEX disputes_open_idx ON disputes (deal_id) WHERE status = 'open'")
    op.execute("CREATE INDEX disputes_status_idx ON disputes (status, created_at)")


def downgrade() -> None:
    for table in ("disputes", "conversions", "clicks", "tracking_links", "submissions"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DELETE FROM payouts WHERE status = 'cancelled'")
    op.execute("ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check")
    op.execute(
        f"ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check "
        f"CHECK (kind IN ({ENTRY_KINDS})) NOT VALID"
    )
    op.execute("ALTER TABLE payouts DROP CONSTRAINT payouts_amount_check")
    op.execute("ALTER TABLE payouts ADD CONSTRAINT payouts_amount_check CHECK (amount > 0)")
    op.execute("ALTER TABLE payouts DROP CONSTRAINT payouts_status_check")
    op.execute("""
        ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
            CHECK (status IN ('scheduled', 'paused', 'paid'))
    """)
    op.execute("ALTER TABLE deals DROP COLUMN approved_at")
    op.execute("""
        ALTER TABLE briefs DROP COLUMN review_days, DROP COLUMN min_live_days,
            DROP COLUMN return_days, DROP COLUMN click_required
    """)
