"""Shared rate limits: one counter per key and fixed window, added to by every API process
(the request limit per caller, the click limit per address).

UNLOGGED: counters are not worth a write-ahead log; a server crash empties the table, which
only forgets who called in the last minute. Updates leave room on their page (fillfactor) so
they stay heap-only. Windows are epoch seconds; old ones are purged by the processes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE UNLOGGED TABLE limit_counters (
            window_start bigint NOT NULL,
            key text NOT NULL CHECK (length(key) <= 300),
            hits int NOT NULL CHECK (hits >= 0),
            PRIMARY KEY (window_start, key)
        ) WITH (fillfactor = 70)
    """)


def downgrade() -> None:
    op.execute("DROP TABLE limit_counters")
