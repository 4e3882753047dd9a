"""Events out: each event records the transaction that wrote it (`xid`), so readers hand out
only events below their snapshot's xmin and never skip one that committed late; a commit
that wrote events notifies `kolmarket_events`; webhook endpoints, their deliveries (one per
endpoint and event) and each delivery's attempts; the fan-out's position in the events.

Events written before this revision are marked with the transaction id 1, below every real
one, and the fan-out starts after them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _events()
    op.execute("""
        CREATE TABLE webhook_endpoints (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            merchant_id uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
            url text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
            description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
            event_types text[] NOT NULL DEFAULT '{}',
            enabled boolean NOT NULL DEFAULT true,
            disabled_reason text CHECK (disabled_reason IN ('gone', 'failing', 'manual')),
            failing_since timestamptz,
            secret text NOT NULL,
            previous_secret text,
            previous_secret_expires_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX webhook_endpoints_merchant_idx ON webhook_endpoints (merchant_id)")
    op.execute("""
        CREATE TABLE webhook_deliveries (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
            event_id bigint REFERENCES events (id),
            event_type text NOT NULL,
            aggregate_id uuid NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            next_attempt_at timestamptz,
            claim uuid,
            last_attempt_at timestamptz,
            last_status_code int,
            last_latency_ms int,
            last_error text,
            delivered_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (endpoint_id, event_id),
            CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
        )
    """)
    op.execute("""
        CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
        WHERE status = 'pending'
    """)
    op.execute("""
        CREATE INDEX webhook_deliveries_object_idx
        ON webhook_deliveries (endpoint_id, aggregate_id, event_id) WHERE status = 'pending'
    """)
    op.execute("""
        CREATE INDEX webhook_deliveries_log_idx
        ON webhook_deliveries (endpoint_id, created_at DESC, id DESC)
    """)
    op.execute("""
        CREATE TABLE webhook_attempts (
            delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
            attempt int NOT NULL CHECK (attempt >= 1),
            attempted_at timestamptz NOT NULL,
            status_code int,
            latency_ms int NOT NULL CHECK (latency_ms >= 0),
            error text,
            PRIMARY KEY (delivery_id, attempt)
        )
    """)
    op.execute("""
        CREATE TABLE webhook_fanout (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            xid xid8 NOT NULL,
            event_id bigint NOT NULL
        )
    """)
    op.execute("""
        INSERT INTO webhook_fanout (xid, event_id)
        SELECT '1'::xid8, coalesce(max(id), 0) FROM events
    """)


def _events() -> None:
    # Existing rows get 1 (older than any transaction); new ones their writer's id.
    op.execute("ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT '1'")
    op.execute("ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id()")
    op.execute("CREATE INDEX events_commit_order_idx ON events (xid, id)")
    op.execute("CREATE INDEX events_merchant_order_idx ON events (merchant_id, xid, id)")
    op.execute("""
        CREATE INDEX events_kol_order_idx ON events (kol_id, xid, id) WHERE kol_id IS NOT NULL
    """)
    op.execute("""
        CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('kolmarket_events', '');
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER events_notify AFTER INSERT ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_notify()
    """)


def downgrade() -> None:
    for table in ("webhook_fanout", "webhook_attempts", "webhook_deliveries", "webhook_endpoints"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TRIGGER events_notify ON events")
    op.execute("DROP FUNCTION events_notify()")
    for index in ("events_kol_order_idx", "events_merchant_order_idx", "events_commit_order_idx"):
        op.execute(f"DROP INDEX {index}")
    op.execute("ALTER TABLE events DROP COLUMN xid")
