"""Rate cards (versioned, never edited in place) with the default card, and saved plans.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The default card as it was when this revision was written; later cards are new versions.
DEFAULT_CARD = Path(__file__).resolve().parent.parent / "data" / "rate_card_2025.1-usd.json"


def upgrade() -> None:
    op.execute("""
        CREATE TABLE rate_cards (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            version text NOT NULL UNIQUE CHECK (length(version) BETWEEN 1 AND 64),
            currency text NOT NULL,
            card jsonb NOT NULL,
            created_by uuid REFERENCES users (id),
            note text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
    """)
    op.execute("CREATE INDEX rate_cards_created_idx ON rate_cards (created_at DESC)")
    op.execute("""
        CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'rows of % are never changed or deleted', TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END $$
    """)
    op.execute("""
        CREATE TRIGGER rate_cards_append_only BEFORE UPDATE OR DELETE ON rate_cards
        FOR EACH ROW EXECUTE FUNCTION forbid_change()
    """)
    op.get_bind().execute(
        sa.text(
            "INSERT INTO rate_cards (version, currency, card, note) "
            "SELECT c->>'version', c->>'currency', c, 'default card' "
            "FROM (SELECT CAST(:card AS jsonb) AS c) s"
        ),
        {"card": DEFAULT_CARD.read_text(encoding="utf-8")},
    )
    op.execute("""
        CREATE TABLE plans (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            merchant_id uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
            brief_id uuid,
            kind text NOT NULL CHECK (kind IN ('allocation', 'selection')),
            status text NOT NULL
                CHECK (status IN ('queued', 'running', 'optimal', 'feasible', 'infeasible',
                                  'no_plan_found', 'failed')),
            problem jsonb NOT NULL,
            result jsonb,
            error text,
            created_by uuid REFERENCES users (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz
        )
    """)
    op.execute("CREATE INDEX plans_merchant_idx ON plans (merchant_id, created_at DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE plans")
    op.execute("DROP TABLE rate_cards")
    op.execute("DROP FUNCTION forbid_change()")
