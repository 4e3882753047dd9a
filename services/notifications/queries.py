"""SQL of notifications: reading events after the consumer's position, the recipients and the
texts' values, recording notifications and their mails, the reminders' due windows, mails'
leases and results, the inbox and preferences.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

MAILS_CHANNEL = "kolmarket_notification_mails"
NOTIFY_MAILS = f"SELECT pg_notify('{MAILS_CHANNEL}', '')"

# The consumer: one at a time across all workers; events after its position and below the
# snapshot's xmin, in commit order (see services.feed.positions). Only the payloads of the
# types that can notify are read.
TRY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended('notification_position', 0))"
READ_EVENTS = """
    SELECT e.id, e.xid::text AS xid, e.type, e.merchant_id, e.kol_id,
           CASE WHEN e.type = any($2::text[]) THEN e.payload END AS payload
    FROM events e, notification_position p
    WHERE (e.xid, e.id) > (p.xid, p.event_id)
      AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.xid, e.id
    LIMIT $1
"""
MOVE_POSITION = "UPDATE notification_position SET xid = $1::text::xid8, event_id = $2"
LAST_EVENT = "SELECT max(id) FROM events"
POSITION_PASSED = """
    SELECT (e.xid, e.id) <= (p.xid, p.event_id) FROM events e, notification_position p
    WHERE e.id = $1
"""

# Recipients, with what decides their texts and mails.
_PREFERENCES = """
    coalesce(p.email_off, '{}') AS email_off, coalesce(p.daily_digest, false) AS daily_digest,
    p.language
"""
KOL_RECIPIENTS = f"""
    SELECT k.id AS kol_id, u.id AS user_id, u.email, k.languages, {_PREFERENCES}
    FROM kols k JOIN users u ON u.id = k.user_id
    LEFT JOIN notification_preferences p ON p.user_id = u.id
    WHERE k.id = any($1::uuid[]) AND u.disabled_at IS NULL
"""
MEMBER_RECIPIENTS = f"""
    SELECT m.merchant_id, m.role, u.id AS user_id, u.email, {_PREFERENCES}
    FROM merchant_members m JOIN users u ON u.id = m.user_id
    LEFT JOIN notification_preferences p ON p.user_id = u.id
    WHERE m.merchant_id = any($1::uuid[]) AND u.disabled_at IS NULL
    ORDER BY m.created_at, u.id
"""
OPERATOR_RECIPIENTS = f"""
    SELECT u.id AS user_id, u.email, {_PREFERENCES}
    FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id
    WHERE u.role = 'operator' AND u.disabled_at IS NULL
    ORDER BY u.created_at, u.id
"""

# The texts' values: names and the brief's title, by offer, deal or merchant.
OFFER_VALUES = """
    SELECT o.id, b.title AS brief, m.name AS merchant, k.display_name AS kol
    FROM offers o JOIN briefs b ON b.id = o.brief_id JOIN merchants m ON m.id = o.merchant_id
    JOIN kols k ON k.id = o.kol_id
    WHERE o.id = any($1::uuid[])
"""
DEAL_VALUES = """
    SELECT d.id, b.title AS brief, m.name AS merchant, k.display_name AS kol
    FROM deals d JOIN briefs b ON b.id = d.brief_id JOIN merchants m ON m.id = d.merchant_id
    JOIN kols k ON k.id = d.kol_id
    WHERE d.id = any($1::uuid[])
"""
MERCHANT_VALUES = "SELECT id, name AS merchant FROM merchants WHERE id = any($1::uuid[])"
PAYOUT_READY = """
    SELECT kol_id FROM payout_accounts WHERE kol_id = any($1::uuid[]) AND payouts_enabled
"""

# Recording: notifications (once per event, recipient and kind), their mails, reminders.
INSERT_NOTIFICATIONS = """
    INSERT INTO notifications (id, user_id, kind, language, title, body, object_type,
                               object_id, link, merchant_id, kol_id, event_id, mail, created_at)
    SELECT r.id, r.user_id, r.kind, r.language, r.title, r.body, r.object_type, r.object_id,
           r.link, r.merchant_id, r.kol_id, r.event_id, r.mail, clock_timestamp()
    FROM ROWS FROM (jsonb_to_recordset($1::text::jsonb) AS (
        id uuid, user_id uuid, kind text, language text, title text, body text,
        object_type text, object_id uuid, link text, merchant_id uuid, kol_id uuid,
        event_id bigint, mail text
    )) WITH ORDINALITY AS r
    ORDER BY r.ordinality
    ON CONFLICT (event_id, user_id, kind) WHERE event_id IS NOT NULL DO NOTHING
    RETURNING id
"""
INSERT_EMAILS = """
    INSERT INTO notification_emails (id, user_id, notification_id, digest_key, to_address,
                                     subject, text_body, html_body, unsubscribe_url,
                                     next_attempt_at)
    SELECT r.id, r.user_id, r.notification_id, r.digest_key, r.to_address, r.subject,
           r.text_body, r.html_body, r.unsubscribe_url, now()
    FROM jsonb_to_recordset($1::text::jsonb) AS r (
        id uuid, user_id uuid, notification_id uuid, digest_key text, to_address text,
        subject text, text_body text, html_body text, unsubscribe_url text
    )
    ON CONFLICT DO NOTHING
    RETURNING id
"""
RECORD_OFFER_REMINDERS = """
    WITH due AS (
        INSERT INTO notification_reminders (kind, subject_id, due_at)
        SELECT 'offer_expiring', o.id, o.expires_at FROM offers o
        WHERE o.status = 'open' AND o.expires_at > $1 AND o.expires_at <= $1 + $2::interval
        ORDER BY o.expires_at
        LIMIT $3
        ON CONFLICT DO NOTHING
        RETURNING subject_id
    )
    SELECT o.id, o.merchant_id, o.kol_id, o.proposed_by, o.expires_at
    FROM due JOIN offers o ON o.id = due.subject_id
"""
RECORD_REVIEW_REMINDERS = """
    WITH due AS (
        INSERT INTO notification_reminders (kind, subject_id, due_at)
        SELECT 'review_closing', s.id, s.review_due_at FROM submissions s
        WHERE s.status = 'submitted' AND s.review_due_at > $1
          AND s.review_due_at <= $1 + $2::interval
        ORDER BY s.review_due_at
        LIMIT $3
        ON CONFLICT DO NOTHING
        RETURNING subject_id
    )
    SELECT s.id, s.deal_id, s.review_due_at, d.merchant_id, d.kol_id
    FROM due JOIN submissions s ON s.id = due.subject_id JOIN deals d ON d.id = s.deal_id
"""

# Mails: lease the due ones, record each attempt's result, give up on lost leases.
CLAIM_EMAILS = """
    WITH due AS (
        SELECT id FROM notification_emails
        WHERE status = 'pending' AND next_attempt_at <= $1
        ORDER BY next_attempt_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    )
    UPDATE notification_emails e SET
        status = 'sending', claim = $3, lease_until = $1 + make_interval(secs => $4),
        attempts = e.attempts + 1, next_attempt_at = NULL, updated_at = now()
    FROM due WHERE e.id = due.id
    RETURNING e.id, e.to_address, e.subject, e.text_body, e.html_body, e.unsubscribe_url,
              e.attempts
"""
# A result whose lease was given up (`unknown`) still records what really happened.
APPLY_EMAIL = """
    UPDATE notification_emails SET
        status = $3, next_attempt_at = $4::timestamptz, last_error = $5,
        sent_at = CASE WHEN $3 IN ('sent', 'logged') THEN $6::timestamptz END,
        lease_until = NULL, updated_at = now()
    WHERE id = $1 AND claim = $2 AND status IN ('sending', 'unknown')
"""
EXPIRE_LEASES = """
    UPDATE notification_emails SET
        status = 'unknown', lease_until = NULL, updated_at = now(),
        last_error = 'the sender stopped before recording the answer; not sent again'
    WHERE status = 'sending' AND lease_until < $1
    RETURNING id
"""
EMAIL_STATUS = "SELECT status, attempts FROM notification_emails WHERE id = $1"

# Digests.
DIGEST_USERS = """
    SELECT DISTINCT user_id FROM notifications
    WHERE mail = 'digest' AND created_at <= $1 AND ($2::uuid IS NULL OR user_id > $2)
    ORDER BY user_id
    LIMIT $3
"""
DIGEST_ITEMS = """
    SELECT n.id, n.kind, n.title, n.body, n.link, n.read_at, u.email, u.id AS user_id,
           coalesce(p.language, n.language) AS language
    FROM notifications n JOIN users u ON u.id = n.user_id
    LEFT JOIN notification_preferences p ON p.user_id = n.user_id
    WHERE n.user_id = $1 AND n.mail = 'digest' AND n.created_at <= $2
    ORDER BY n.created_at, n.id
    LIMIT $3
    FOR UPDATE OF n
"""
MARK_DIGESTED = """
    UPDATE notifications SET
        mail = CASE WHEN read_at IS NULL AND $2::uuid IS NOT NULL THEN 'digested'
                    ELSE 'skipped' END,
        digest_email_id = CASE WHEN read_at IS NULL THEN $2::uuid END
    WHERE id = any($1::uuid[])
"""

# Retention: notifications older than the retention with their mails, save one still waiting
# for its digest or whose mail is still being sent; digest mails and reminder records as old.
# Each a batch ($2 rows) for services.database.delete_in_batches.
PURGE_NOTIFICATIONS = """
    DELETE FROM notifications WHERE id = any(ARRAY(
        SELECT n.id FROM notifications n
        WHERE n.created_at < now() - make_interval(days => $1) AND n.mail <> 'digest'
          AND NOT EXISTS (
              SELECT FROM notification_emails m
              WHERE m.notification_id = n.id AND m.status IN ('pending', 'sending'))
        LIMIT $2
    ))
"""
PURGE_DIGEST_MAILS = """
    DELETE FROM notification_emails WHERE id = any(ARRAY(
        SELECT id FROM notification_emails
        WHERE digest_key IS NOT NULL AND status NOT IN ('pending', 'sending')
          AND created_at < now() - make_interval(days => $1)
        LIMIT $2
    ))
"""
PURGE_REMINDERS = """
    DELETE FROM notification_reminders WHERE (kind, subject_id) = any(ARRAY(
        SELECT (kind, subject_id) FROM notification_reminders
        WHERE due_at < now() - make_interval(days => $1)
        LIMIT $2
    ))
"""

# The inbox: newest first; the unread ones alone when asked.
NOTIFICATION_FIELDS = """
    id, kind, title, body, language, object_type, object_id, link, created_at, read_at
"""
_PAGE = """
    SELECT {fields} FROM notifications
    WHERE user_id = $1 {unread}
      AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
    ORDER BY created_at DESC, id DESC
    LIMIT $4
"""
LIST_ALL = _PAGE.format(fields=NOTIFICATION_FIELDS, unread="")
LIST_UNREAD = _PAGE.format(fields=NOTIFICATION_FIELDS, unread="AND read_at IS NULL")
COUNT_UNREAD = "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL"
FIND = f"""
    SELECT {NOTIFICATION_FIELDS}, merchant_id, kol_id FROM notifications
    WHERE id = $1 AND user_id = $2
"""
READ_ONE = f"""
    UPDATE notifications SET read_at = now()
    WHERE id = $1 AND user_id = $2 AND read_at IS NULL
    RETURNING {NOTIFICATION_FIELDS}, merchant_id, kol_id
"""
READ_ALL = "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL"

# Preferences: a user without a row has every email on, no digest, a derived language.
PREFERENCES = """
    SELECT email_off, daily_digest, language FROM notification_preferences WHERE user_id = $1
"""
SAVE_PREFERENCES = """
    INSERT INTO notification_preferences AS p (user_id, email_off, daily_digest, language)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (user_id) DO UPDATE SET
        email_off = EXCLUDED.email_off, daily_digest = EXCLUDED.daily_digest,
        language = EXCLUDED.language, updated_at = now()
    RETURNING email_off, daily_digest, language
"""
UNSUBSCRIBE = """
    INSERT INTO notification_preferences AS p (user_id, email_off)
    SELECT u.id, ARRAY[$2::text] FROM users u WHERE u.id = $1
    ON CONFLICT (user_id) DO UPDATE SET
        email_off = CASE WHEN $2 = any(p.email_off) THEN p.email_off
                         ELSE p.email_off || $2::text END,
        updated_at = now()
    RETURNING user_id
"""
SIDE_OF_USER = """
    SELECT u.role, m.merchant_id, k.id AS kol_id FROM users u
    LEFT JOIN merchant_members m ON m.user_id = u.id LEFT JOIN kols k ON k.user_id = u.id
    WHERE u.id = $1
"""
