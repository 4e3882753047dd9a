"""Frozen terms: what both sides agreed to never changes after the fact.

A deal's parties, the offer revision it was made from, its terms with their SHA-256, what the
merchant pays and in which currency, and when each side accepted are fixed when the deal is
made; a trigger refuses any update that would change one of them (its status, approval time
and commission counter still move). Offer revisions are the negotiation's history: their rows
are never changed or deleted (the `forbid_change` trigger of 0005).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FROZEN_DEAL_COLUMNS = (
    "offer_id", "revision", "brief_id", "merchant_id", "kol_id", "terms", "terms_sha256",
    "merchant_pays", "currency", "merchant_accepted_at", "kol_accepted_at",
)  # fmt: skip


def upgrade() -> None:
    # The frozen columns come as the trigger's arguments, so they are listed in one place.
    op.execute("""
        CREATE FUNCTION keep_deal_terms() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            before jsonb := to_jsonb(OLD);
            after jsonb := to_jsonb(NEW);
            changed text;
        BEGIN
            SELECT string_agg(name, ', ' ORDER BY name) INTO changed
              FROM unnest(TG_ARGV) AS name
             WHERE before -> name IS DISTINCT FROM after -> name;
            IF changed IS NOT NULL THEN
                RAISE EXCEPTION 'deal %: % cannot change, the terms were frozen when it was made',
                    OLD.id, changed USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END $$
    """)
    columns = ", ".join(FROZEN_DEAL_COLUMNS)
    arguments = ", ".join(f"'{name}'" for name in FROZEN_DEAL_COLUMNS)
    op.execute(f"""
        CREATE TRIGGER deals_frozen_terms BEFORE UPDATE OF {columns} ON deals
        FOR EACH ROW EXECUTE FUNCTION keep_deal_terms({arguments})
    """)
    op.execute("""
        CREATE TRIGGER offer_revisions_append_only BEFORE UPDATE OR DELETE ON offer_revisions
        FOR EACH ROW EXECUTE FUNCTION forbid_change()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER offer_revisions_append_only ON offer_revisions")
    op.execute("DROP TRIGGER deals_frozen_terms ON deals")
    op.execute("DROP FUNCTION keep_deal_terms()")
