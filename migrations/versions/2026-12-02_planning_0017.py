"""Campaign planning that drives the marketplace: plans of a brief, their lifecycle and items.

- Briefs say whom they are for beyond platforms and tiers: the creators' home `regions`, a
  `min_authenticity` above the rate card's floor, and whether offers need a payout account
  that is ready (`payout_ready_required`).
- A plan ends `solved` (with why it stopped: `optimal`, `gap_reached`, `time_limit`),
  `infeasible`, `failed` (with a problem object) or `cancelled`; the old `optimal` and
  `feasible` states become `solved`, `no_plan_found` becomes `failed`. A running plan keeps
  its progress (best value and bound so far), a derived plan the sources of its numbers, a
  solved plan its expected figures per (platform, tier). One plan per brief is adopted.
- `plan_items` holds the creators a derived selection chose, in order, so that large
  selections page.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

STATES = "'queued', 'running', 'solved', 'infeasible', 'failed', 'cancelled'"
OLD_STATES = "'queued', 'running', 'optimal', 'feasible', 'infeasible', 'no_plan_found', 'failed'"
STOP_REASONS = "'optimal', 'gap_reached', 'time_limit'"


def upgrade() -> None:
    op.execute("""
        ALTER TABLE briefs
            ADD COLUMN regions text[] NOT NULL DEFAULT '{}'
                CHECK (cardinality(regions) <= 50
                       AND array_to_string(regions, ',') ~ '^([A-Z]{2}(,[A-Z]{2})*)?$'),
            ADD COLUMN min_authenticity double precision
                CHECK (min_authenticity BETWEEN 0 AND 1),
            ADD COLUMN payout_ready_required boolean NOT NULL DEFAULT false
    """)
    _plans()
    op.execute("""
        CREATE TABLE plan_items (
            plan_id uuid NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
            position int NOT NULL CHECK (position >= 1),
            account_id uuid NOT NULL,
            kol_id uuid NOT NULL,
            item jsonb NOT NULL,
            PRIMARY KEY (plan_id, position)
        )
    """)
    op.execute("CREATE INDEX plan_items_kol_idx ON plan_items (plan_id, kol_id)")


def _plans() -> None:
    op.execute("ALTER TABLE plans DROP CONSTRAINT plans_status_check")
    op.execute(f"""
        ALTER TABLE plans
            ADD COLUMN stop_reason text CHECK (stop_reason IN ({STOP_REASONS})),
            ADD COLUMN failure jsonb,
            ADD COLUMN derivation jsonb,
            ADD COLUMN progress jsonb,
            ADD COLUMN expected jsonb,
            ADD COLUMN source_plan_id uuid REFERENCES plans (id) ON DELETE SET NULL,
            ADD COLUMN rate_card_version text,
            ADD COLUMN time_limit_seconds double precision NOT NULL DEFAULT 20
                CHECK (time_limit_seconds > 0),
            ADD COLUMN started_at timestamptz,
            ADD COLUMN attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            ADD COLUMN adopted_at timestamptz
    """)
    op.execute("""
        UPDATE plans SET
            stop_reason = CASE status WHEN 'optimal' THEN 'optimal'
                                      WHEN 'feasible' THEN 'time_limit' END,
            failure = CASE WHEN status = 'no_plan_found' THEN jsonb_build_object(
                               'type', '/problems/no-plan-found',
                               'title', 'No plan found in time',
                               'detail', 'the time limit passed before any plan was found')
                           WHEN status = 'failed' THEN jsonb_build_object(
                               'type', '/problems/solver-failed',
                               'title', 'The solver failed',
                               'detail', coalesce(error, 'unknown'))
                      END,
            status = CASE WHEN status IN ('optimal', 'feasible') THEN 'solved'
                          WHEN status = 'no_plan_found' THEN 'failed'
                          ELSE status END
    """)
    op.execute(f"ALTER TABLE plans ADD CONSTRAINT plans_status_check CHECK (status IN ({STATES}))")
    op.execute(
        "CREATE UNIQUE INDEX plans_adopted_key ON plans (brief_id) WHERE adopted_at IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX plans_brief_idx ON plans (brief_id, created_at DESC, id DESC) "
        "WHERE brief_id IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX plans_unfinished_idx ON plans (created_at) "
        "WHERE status IN ('queued', 'running')"
    )


def downgrade() -> None:
    op.execute("DROP TABLE plan_items")
    op.execute("DROP INDEX plans_unfinished_idx")
    op.execute("DROP INDEX plans_brief_idx")
    op.execute("DROP INDEX plans_adopted_key")
    op.execute("ALTER TABLE plans DROP CONSTRAINT plans_status_check")
    op.execute("""
        UPDATE plans SET
            error = coalesce(error, failure ->> 'detail'),
            status = CASE WHEN status = 'solved' AND stop_reason = 'optimal' THEN 'optimal'
                          WHEN status = 'solved' THEN 'feasible'
                          WHEN status = 'cancelled' THEN 'failed'
                          ELSE status END
    """)
    op.execute(
        f"ALTER TABLE plans ADD CONSTRAINT plans_status_check CHECK (status IN ({OLD_STATES}))"
    )
    op.execute("""
        ALTER TABLE plans
            DROP COLUMN stop_reason, DROP COLUMN failure, DROP COLUMN derivation,
            DROP COLUMN progress, DROP COLUMN expected, DROP COLUMN source_plan_id,
            DROP COLUMN rate_card_version, DROP COLUMN time_limit_seconds,
            DROP COLUMN started_at, DROP COLUMN attempts, DROP COLUMN adopted_at
    """)
    op.execute("""
        ALTER TABLE briefs
            DROP COLUMN regions, DROP COLUMN min_authenticity, DROP COLUMN payout_ready_required
    """)
