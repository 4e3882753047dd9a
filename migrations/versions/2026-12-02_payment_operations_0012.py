"""Money moves exactly once: every call to Stripe is recorded before it is made.

`payment_operations` holds one row per outside effect (a PaymentIntent created or cancelled,
a refund, a transfer, a settlement charge, a Connect account, a customer), with the
idempotency key derived from the business object, what was asked, and what came of it:
pending → sent → succeeded | failed | unknown. An operation in flight blocks conflicting
movements of the same money until it is settled.

Each ledger entry that Stripe moved names the Stripe object (`external_id`), at most once, so
the same payment, refund or transfer can never be booked twice; earlier entries get theirs
from their memo. A funding keeps the client secret the merchant's browser confirms it with.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KINDS = (
    "'funding', 'funding_cancel', 'refund', 'payout', 'commission', 'settlement', "
    "'settlement_retry', 'payout_account', 'customer'"
)
STATUSES = "'pending', 'sent', 'succeeded', 'failed', 'unknown'"


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE payment_operations (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            kind text NOT NULL CHECK (kind IN ({KINDS})),
            idempotency_key text NOT NULL UNIQUE CHECK (length(idempotency_key) <= 255),
            deal_id uuid REFERENCES deals (id),
            subject_id uuid,
            amount bigint CHECK (amount >= 0),
            currency text CHECK (currency ~ '^[A-Z]{{3}}$'),
            params jsonb NOT NULL,
            context jsonb NOT NULL DEFAULT '{{}}',
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ({STATUSES})),
            stripe_id text,
            result jsonb,
            error text,
            attempts int NOT NULL DEFAULT 0,
            lease_token uuid,
            lease_until timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            settled_at timestamptz
        )
    """)
    op.execute(
        "CREATE INDEX payment_operations_open_idx ON payment_operations (updated_at) "
        "WHERE status IN ('pending', 'sent', 'unknown')"
    )
    op.execute(
        "CREATE INDEX payment_operations_deal_idx ON payment_operations (deal_id, created_at) "
        "WHERE deal_id IS NOT NULL"
    )
    op.execute("CREATE INDEX payment_operations_subject_idx ON payment_operations (subject_id)")
    op.execute("ALTER TABLE deal_fundings ADD COLUMN client_secret text")
    # A funding's state names the unconfirmed case too (shown while its operation is open).
    op.execute("ALTER TABLE deal_fundings DROP CONSTRAINT deal_fundings_status_check")
    op.execute(
        "ALTER TABLE deal_fundings ADD CONSTRAINT deal_fundings_status_check "
        "CHECK (status IN ('pending', 'succeeded', 'failed', 'unknown'))"
    )
    op.execute("ALTER TABLE journal_entries ADD COLUMN external_id text")
    op.execute("ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only")
    op.execute("""
        UPDATE journal_entries
        SET external_id = substring(memo FROM '((pi|re|tr|py)_[A-Za-z0-9]+)')
        WHERE kind IN ('funding', 'refund', 'payout', 'settlement')
    """)
    op.execute("ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only")
    op.execute(
        "CREATE UNIQUE INDEX journal_entries_external_idx ON journal_entries (external_id) "
        "WHERE external_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX journal_entries_external_idx")
    op.execute("ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only")
    op.execute("ALTER TABLE journal_entries DROP COLUMN external_id")
    op.execute("ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only")
    op.execute("ALTER TABLE deal_fundings DROP COLUMN client_secret")
    op.execute("ALTER TABLE deal_fundings DROP CONSTRAINT deal_fundings_status_check")
    op.execute(
        "ALTER TABLE deal_fundings ADD CONSTRAINT deal_fundings_status_check "
        "CHECK (status IN ('pending', 'succeeded', 'failed'))"
    )
    op.execute("DROP TABLE payment_operations")
