"""Notifications: each user's inbox, the mail recorded for a notification (one at most, or a
daily digest gathering several), per-user preferences, the reminders recorded once per object
and kind, and the position up to which events were turned into notifications.

The position starts at the migration's snapshot: events committed before it notify no one.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

KINDS = """
    'offer_invitation', 'offer_application', 'offer_countered', 'offer_accepted',
    'offer_declined', 'offer_withdrawn', 'offer_expiring', 'submission_waiting',
    'review_closing', 'changes_requested', 'deal_approved', 'payout_sent',
    'takedown_reported', 'dispute_resolved', 'conversion_held', 'payout_account_incomplete'
"""
LANGUAGES = "'en', 'zh-Hans'"


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE notification_preferences (
            user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
            email_off text[] NOT NULL DEFAULT '{{}}' CHECK (email_off <@ ARRAY[{KINDS}]),
            daily_digest boolean NOT NULL DEFAULT false,
            language text CHECK (language IN ({LANGUAGES})),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    _notifications()
    _emails()
    op.execute("""
        CREATE TABLE notification_reminders (
            kind text NOT NULL CHECK (kind IN ('offer_expiring', 'review_closing')),
            subject_id uuid NOT NULL,
            due_at timestamptz NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, subject_id)
        )
    """)
    op.execute("""
        CREATE TABLE notification_position (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            xid xid8 NOT NULL,
            event_id bigint NOT NULL
        )
    """)
    op.execute("""
        INSERT INTO notification_position (xid, event_id)
        VALUES (pg_snapshot_xmin(pg_current_snapshot()), 0)
    """)


def _notifications() -> None:
    op.execute(f"""
        CREATE TABLE notifications (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            kind text NOT NULL CHECK (kind IN ({KINDS})),
            language text NOT NULL CHECK (language IN ({LANGUAGES})),
            title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
            body text NOT NULL CHECK (length(body) <= 2000),
            object_type text NOT NULL CHECK (length(object_type) <= 30),
            object_id uuid NOT NULL,
            link text NOT NULL CHECK (length(link) <= 300),
            merchant_id uuid,
            kol_id uuid,
            event_id bigint,
            mail text NOT NULL
                CHECK (mail IN ('none', 'immediate', 'digest', 'digested', 'skipped')),
            digest_email_id uuid,
            read_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("""
        CREATE UNIQUE INDEX notifications_event_key ON notifications (event_id, user_id, kind)
        WHERE event_id IS NOT NULL
    """)
    op.execute("""
        CREATE INDEX notifications_inbox_idx ON notifications (user_id, created_at DESC, id DESC)
    """)
    op.execute("""
        CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC, id DESC)
        WHERE read_at IS NULL
    """)
    op.execute("""
        CREATE INDEX notifications_digest_idx ON notifications (user_id) WHERE mail = 'digest'
    """)


def _emails() -> None:
    op.execute("""
        CREATE TABLE notification_emails (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            notification_id uuid UNIQUE REFERENCES notifications (id) ON DELETE CASCADE,
            digest_key text UNIQUE CHECK (length(digest_key) <= 100),
            to_address text NOT NULL CHECK (length(to_address) <= 254),
            subject text NOT NULL,
            text_body text NOT NULL,
            html_body text NOT NULL,
            unsubscribe_url text NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed', 'unknown')),
            attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            next_attempt_at timestamptz,
            claim uuid,
            lease_until timestamptz,
            last_error text,
            sent_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((notification_id IS NULL) <> (digest_key IS NULL)),
            CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
            CHECK ((status = 'sending') = (lease_until IS NOT NULL))
        )
    """)
    op.execute("""
        CREATE INDEX notification_emails_due_idx ON notification_emails (next_attempt_at)
        WHERE status = 'pending'
    """)
    op.execute("""
        CREATE INDEX notification_emails_lease_idx ON notification_emails (lease_until)
        WHERE status = 'sending'
    """)
    op.execute("""
        ALTER TABLE notifications ADD CONSTRAINT notifications_digest_email_fkey
        FOREIGN KEY (digest_email_id) REFERENCES notification_emails (id) ON DELETE SET NULL
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE notifications DROP CONSTRAINT notifications_digest_email_fkey")
    for table in (
        "notification_position",
        "notification_reminders",
        "notification_emails",
        "notifications",
        "notification_preferences",
    ):
        op.execute(f"DROP TABLE {table}")
