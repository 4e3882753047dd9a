"""Conversions at partner volume: a running total of each deal's counted commission, so the
deal's cap is checked against one locked row instead of a sum over its conversions; and the
conversions log written without per-row foreign-key checks.

Every conversion's deal and merchant come from rows the recording transaction has just read
and locked, so the per-row foreign-key triggers (a lookup each, a thousand per batch) bought
no safety; deals and merchants are never deleted. The accrual index only covers booked rows,
and rejected reports get their own order index, so looking up an order never scans; lists
and the operators' queue of held orders read through indexes too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE deals ADD COLUMN commission_counted bigint NOT NULL DEFAULT 0 "
        "CHECK (commission_counted >= 0)"
    )
    op.execute("ALTER TABLE conversions DROP CONSTRAINT conversions_deal_id_fkey")
    op.execute("ALTER TABLE conversions DROP CONSTRAINT conversions_merchant_id_fkey")
    op.execute("DROP INDEX conversions_accrual_idx")
    op.execute(
        "CREATE INDEX conversions_accrual_idx ON conversions (accrual_id) "
        "WHERE accrual_id IS NOT NULL"
    )
    # With the unique index of counted orders, every report of an order is found by index.
    op.execute(
        "CREATE INDEX conversions_rejected_order_idx ON conversions (merchant_id, order_id) "
        "WHERE status = 'rejected'"
    )
    # A merchant's and a deal's conversions newest first, and the operators' queue of held ones.
    op.execute(
        "CREATE INDEX conversions_merchant_idx ON conversions (merchant_id, received_at, id)"
    )
    op.execute("DROP INDEX conversions_deal_idx")
    op.execute("CREATE INDEX conversions_deal_idx ON conversions (deal_id, received_at, id)")
    op.execute(
        "ALTER TABLE conversions ADD COLUMN review_note text CHECK (length(review_note) <= 500)"
    )
    op.execute(
        "CREATE INDEX conversions_held_idx ON conversions (received_at, id) WHERE status = 'held'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX conversions_held_idx")
    op.execute("ALTER TABLE conversions DROP COLUMN review_note")
    op.execute("DROP INDEX conversions_deal_idx")
    op.execute("CREATE INDEX conversions_deal_idx ON conversions (deal_id, occurred_at)")
    op.execute("DROP INDEX conversions_merchant_idx")
    op.execute("DROP INDEX conversions_rejected_order_idx")
    op.execute("DROP INDEX conversions_accrual_idx")
    op.execute("CREATE INDEX conversions_accrual_idx ON conversions (accrual_id)")
    op.execute(
        "ALTER TABLE conversions ADD CONSTRAINT conversions_merchant_id_fkey "
        "FOREIGN KEY (merchant_id) REFERENCES merchants (id)"
    )
    op.execute(
        "ALTER TABLE conversions ADD CONSTRAINT conversions_deal_id_fkey "
        "FOREIGN KEY (deal_id) REFERENCES deals (id)"
    )
    op.execute("ALTER TABLE deals DROP COLUMN commission_counted")
