"""Payments: a double-entry ledger, deal funding, payout accounts, payouts, refunds, Stripe events.

Postings and journal entries are append-only (the `forbid_change` trigger of 0005); every
entry's postings sum to zero, checked at commit by a deferred constraint trigger, and each
posting's account has its entry's currency. Balances are derived from postings, never stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACCOUNT_KINDS = (
    "'merchant_escrow', 'kol_payable', 'platform_revenue', 'merchant_receivable', 'stripe_clearing'"
)
ENTRY_KINDS = "'funding', 'release', 'payout', 'refund', 'commission', 'settlement'"
CURRENCY = "CHECK (currency ~ '^[A-Z]{3}$')"


def upgrade() -> None:
    _ledger()
    _payments()


def _ledger() -> None:
    op.execute(f"""
        CREATE TABLE ledger_accounts (
            id bigserial PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ({ACCOUNT_KINDS})),
            owner_id uuid,
            currency text NOT NULL {CURRENCY},
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE NULLS NOT DISTINCT (kind, owner_id, currency)
        )
    """)
    op.execute(f"""
        CREATE TABLE journal_entries (
            id bigserial PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ({ENTRY_KINDS})),
            deal_id uuid REFERENCES deals (id),
            currency text NOT NULL {CURRENCY},
            memo text NOT NULL DEFAULT '' CHECK (length(memo) <= 500),
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX journal_entries_deal_idx ON journal_entries (deal_id, id)")
    op.execute("""
        CREATE TABLE postings (
            id bigserial PRIMARY KEY,
            entry_id bigint NOT NULL REFERENCES journal_entries (id),
            account_id bigint NOT NULL REFERENCES ledger_accounts (id),
            amount bigint NOT NULL CHECK (amount <> 0)
        )
    """)
    op.execute("CREATE INDEX postings_entry_idx ON postings (entry_id)")
    op.execute("CREATE INDEX postings_account_idx ON postings (account_id)")
    for table in ("journal_entries", "postings"):
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION forbid_change()
        """)
    op.execute("""
        CREATE FUNCTION check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            total numeric;
            mixed int;
        BEGIN
            SELECT coalesce(sum(p.amount), 0),
                   count(*) FILTER (WHERE a.currency <> e.currency)
              INTO total, mixed
              FROM postings p
              JOIN ledger_accounts a ON a.id = p.account_id
              JOIN journal_entries e ON e.id = p.entry_id
             WHERE p.entry_id = NEW.entry_id;
            IF total <> 0 THEN
                RAISE EXCEPTION 'journal entry % does not balance: postings sum to %',
                    NEW.entry_id, total USING ERRCODE = 'check_violation';
            END IF;
            IF mixed > 0 THEN
                RAISE EXCEPTION 'journal entry % mixes currencies', NEW.entry_id
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION check_entry_balanced()
    """)


def _payments() -> None:
    op.execute(
        "ALTER TABLE briefs ADD COLUMN payout_hold_days int NOT NULL DEFAULT 7 "
        "CHECK (payout_hold_days BETWEEN 0 AND 60)"
    )
    op.execute("""
        CREATE TABLE stripe_events (
            id text PRIMARY KEY,
            type text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute(f"""
        CREATE TABLE deal_fundings (
            deal_id uuid PRIMARY KEY REFERENCES deals (id),
            payment_intent_id text NOT NULL UNIQUE,
            amount bigint NOT NULL CHECK (amount > 0),
            currency text NOT NULL {CURRENCY},
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'succeeded', 'failed')),
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("""
        CREATE TABLE payout_accounts (
            kol_id uuid PRIMARY KEY REFERENCES kols (id) ON DELETE CASCADE,
            stripe_account_id text NOT NULL UNIQUE,
            payouts_enabled boolean NOT NULL DEFAULT false,
            details_submitted boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute(f"""
        CREATE TABLE payouts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            deal_id uuid NOT NULL UNIQUE REFERENCES deals (id),
            kol_id uuid NOT NULL REFERENCES kols (id),
            amount bigint NOT NULL CHECK (amount > 0),
            currency text NOT NULL {CURRENCY},
            status text NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'paused', 'paid')),
            due_at timestamptz NOT NULL,
            transfer_id text UNIQUE,
            attempts int NOT NULL DEFAULT 0,
            last_error text,
            paid_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX payouts_kol_idx ON payouts (kol_id, due_at)")
    op.execute("CREATE INDEX payouts_due_idx ON payouts (due_at) WHERE status = 'scheduled'")
    op.execute("""
        CREATE TABLE refunds (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            deal_id uuid NOT NULL REFERENCES deals (id),
            amount bigint NOT NULL CHECK (amount > 0),
            stripe_refund_id text NOT NULL UNIQUE,
            reason text NOT NULL CHECK (reason IN ('cancelled', 'dispute')),
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX refunds_deal_idx ON refunds (deal_id)")
    _commissions()


def _commissions() -> None:
    op.execute("""
        CREATE TABLE merchant_billing (
            merchant_id uuid PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
            stripe_customer_id text NOT NULL UNIQUE,
            payment_method_id text,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute(f"""
        CREATE TABLE commission_settlements (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            merchant_id uuid NOT NULL REFERENCES merchants (id),
            currency text NOT NULL {CURRENCY},
            amount bigint NOT NULL CHECK (amount > 0),
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'failed', 'paid')),
            attempts int NOT NULL DEFAULT 0,
            payment_intent_id text UNIQUE,
            last_error text,
            paid_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute(
        "CREATE UNIQUE INDEX commission_settlements_open_idx ON commission_settlements "
        "(merchant_id, currency) WHERE status <> 'paid'"
    )
    op.execute(f"""
        CREATE TABLE commission_accruals (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            deal_id uuid NOT NULL REFERENCES deals (id),
            merchant_id uuid NOT NULL REFERENCES merchants (id),
            kol_id uuid NOT NULL REFERENCES kols (id),
            currency text NOT NULL {CURRENCY},
            amount bigint NOT NULL CHECK (amount > 0),
            platform_cut bigint NOT NULL CHECK (platform_cut >= 0 AND platform_cut <= amount),
            settlement_id uuid REFERENCES commission_settlements (id),
            transfer_id text UNIQUE,
            accrued_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute(
        "CREATE INDEX commission_accruals_open_idx ON commission_accruals (merchant_id, currency) "
        "WHERE settlement_id IS NULL"
    )


def downgrade() -> None:
    for table in ("commission_accruals", "commission_settlements", "merchant_billing"):
        op.execute(f"DROP TABLE {table}")
    for table in ("refunds", "payouts", "payout_accounts", "deal_fundings", "stripe_events"):
        op.execute(f"DROP TABLE {table}")
    op.execute("ALTER TABLE briefs DROP COLUMN payout_hold_days")
    op.execute("DROP TABLE postings")
    op.execute("DROP FUNCTION check_entry_balanced()")
    op.execute("DROP TABLE journal_entries")
    op.execute("DROP TABLE ledger_accounts")
