"""Each table written by one context: a deal's running total of counted commission moves from
`deals` (owned by deals) to its tracking link (owned by tracking, which counts the orders);
and the status of a stored idempotent answer, which every replay derives from its route, is
no longer kept.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE tracking_links ADD COLUMN commission_counted bigint NOT NULL DEFAULT 0 "
        "CHECK (commission_counted >= 0)"
    )
    op.execute("""
        UPDATE tracking_links t SET commission_counted = d.commission_counted
        FROM deals d WHERE d.id = t.deal_id
    """)
    op.execute("ALTER TABLE deals DROP COLUMN commission_counted")
    op.execute("ALTER TABLE idempotency_keys DROP COLUMN status_code")


def downgrade() -> None:
    op.execute(
        "ALTER TABLE deals ADD COLUMN commission_counted bigint NOT NULL DEFAULT 0 "
        "CHECK (commission_counted >= 0)"
    )
    op.execute("""
        UPDATE deals d SET commission_counted = t.commission_counted
        FROM tracking_links t WHERE t.deal_id = d.id
    """)
    op.execute("ALTER TABLE tracking_links DROP COLUMN commission_counted")
    op.execute("ALTER TABLE idempotency_keys ADD COLUMN status_code int NOT NULL DEFAULT 200")
    op.execute("ALTER TABLE idempotency_keys ALTER COLUMN status_code DROP DEFAULT")
