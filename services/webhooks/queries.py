"""SQL of webhooks: endpoints, the fan-out of events into deliveries, claiming due
deliveries, recording attempts, and the delivery log.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

DELIVERIES_CHANNEL = "kolmarket_webhook_deliveries"
NOTIFY_DELIVERIES = f"SELECT pg_notify('{DELIVERIES_CHANNEL}', '')"

ENDPOINT_FIELDS = """
    ep.id, ep.url, ep.event_types, ep.description, ep.enabled, ep.disabled_reason,
    ep.failing_since, ep.previous_secret_expires_at, ep.created_at, ep.updated_at
"""
LOCK_MERCHANT_ENDPOINTS = (
    "SELECT pg_advisory_xact_lock(hashtextextended('webhook_endpoints ' || $1::uuid::text, 0))"
)
COUNT_ENDPOINTS = "SELECT count(*) FROM webhook_endpoints WHERE merchant_id = $1"
INSERT_ENDPOINT = f"""
    INSERT INTO webhook_endpoints AS ep
        (merchant_id, url, event_types, description, enabled, disabled_reason, secret)
    VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN NULL ELSE 'manual' END, $6)
    RETURNING {ENDPOINT_FIELDS}, ep.secret
"""
LIST_ENDPOINTS = f"""
    SELECT {ENDPOINT_FIELDS} FROM webhook_endpoints ep
    WHERE ep.merchant_id = $1 ORDER BY ep.created_at, ep.id
"""
FIND_ENDPOINT = f"""
    SELECT {ENDPOINT_FIELDS}, ep.merchant_id FROM webhook_endpoints ep
    WHERE ep.id = $1 AND ep.merchant_id = $2
"""
UPDATE_ENDPOINT = f"""
    UPDATE webhook_endpoints ep SET
        url = coalesce($3, ep.url),
        event_types = coalesce($4, ep.event_types),
        description = coalesce($5, ep.description),
        enabled = coalesce($6, ep.enabled),
        disabled_reason = CASE WHEN $6 IS TRUE THEN NULL
                               WHEN $6 IS FALSE AND ep.enabled THEN 'manual'
                               ELSE ep.disabled_reason END,
        failing_since = CASE WHEN $6 IS TRUE THEN NULL ELSE ep.failing_since END,
        updated_at = now()
    WHERE ep.id = $1 AND ep.merchant_id = $2
    RETURNING {ENDPOINT_FIELDS}
"""
ROTATE_SECRET = f"""
    UPDATE webhook_endpoints ep SET
        previous_secret = ep.secret, previous_secret_expires_at = now() + $3::interval,
        secret = $4, updated_at = now()
    WHERE ep.id = $1 AND ep.merchant_id = $2
    RETURNING {ENDPOINT_FIELDS}, ep.secret
"""
DELETE_ENDPOINT = "DELETE FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2 RETURNING id"

DELIVERY_FIELDS = """
    d.id, d.endpoint_id, d.event_id, d.event_type, d.status, d.attempts, d.last_status_code,
    d.last_latency_ms, d.last_error, d.last_attempt_at, d.next_attempt_at, d.delivered_at,
    d.created_at
"""
LIST_DELIVERIES = f"""
    SELECT {DELIVERY_FIELDS} FROM webhook_deliveries d
    WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
      AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3, $4::uuid))
    ORDER BY d.created_at DESC, d.id DESC
    LIMIT $5
"""
FIND_DELIVERY = f"""
    SELECT {DELIVERY_FIELDS} FROM webhook_deliveries d WHERE d.id = $1 AND d.endpoint_id = $2
"""
LIST_ATTEMPTS = """
    SELECT attempt, attempted_at, status_code, latency_ms, error FROM webhook_attempts
    WHERE delivery_id = $1 ORDER BY attempt
"""
# Due now, unless an attempt is under way (its claim is then kept).
RETRY_DELIVERY = f"""
    UPDATE webhook_deliveries d SET
        status = 'pending',
        next_attempt_at = CASE WHEN d.status = 'pending' AND d.claim IS NOT NULL
                               THEN d.next_attempt_at ELSE now() END
    WHERE d.id = $1 AND d.endpoint_id = $2
    RETURNING {DELIVERY_FIELDS}
"""
INSERT_PING = f"""
    INSERT INTO webhook_deliveries AS d
        (endpoint_id, event_id, event_type, aggregate_id, next_attempt_at)
    VALUES ($1, NULL, 'ping', $1, now())
    RETURNING {DELIVERY_FIELDS}
"""

# The fan-out: events after its position and below the snapshot's xmin, in commit order,
# become one delivery per enabled endpoint of their merchant that wants their type.
TRY_LOCK_FANOUT = "SELECT pg_try_advisory_xact_lock(hashtextextended('webhook_fanout', 0))"
FAN_OUT = """
    WITH position AS (SELECT xid, event_id FROM webhook_fanout),
    batch AS (
        SELECT e.id, e.xid, e.type, e.aggregate_id, e.merchant_id, e.created_at
        FROM events e, position p
        WHERE (e.xid, e.id) > (p.xid, p.event_id)
          AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.xid, e.id
        LIMIT $1
    ),
    recorded AS (
        INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, aggregate_id,
                                        next_attempt_at)
        SELECT ep.id, b.id, b.type, b.aggregate_id, now()
        FROM batch b
        JOIN webhook_endpoints ep ON ep.merchant_id = b.merchant_id AND ep.enabled
            AND (cardinality(ep.event_types) = 0 OR b.type = any(ep.event_types))
            AND ep.created_at <= b.created_at
        ON CONFLICT (endpoint_id, event_id) DO NOTHING
        RETURNING 1
    ),
    last AS (SELECT xid, id FROM batch ORDER BY xid DESC, id DESC LIMIT 1),
    moved AS (UPDATE webhook_fanout f SET xid = last.xid, event_id = last.id FROM last
              RETURNING 1)
    SELECT (SELECT count(*) FROM batch) AS events, (SELECT count(*) FROM recorded) AS deliveries
"""

# Due deliveries of enabled endpoints, each the oldest pending one of its object at its
# endpoint, and with no older event of its object still waiting for the fan-out. Claimed
# for the lease: a sender that dies leaves it due again when the lease ends.
CLAIM = """
    WITH position AS (SELECT xid, event_id FROM webhook_fanout),
    due AS (
        SELECT d.id, d.attempts, d.event_type, d.created_at AS recorded_at, d.endpoint_id,
               ep.merchant_id, ep.url, ep.secret,
               CASE WHEN ep.previous_secret_expires_at > now() THEN ep.previous_secret END
                   AS previous_secret,
               e.id AS event_id, e.type, e.aggregate_type, e.aggregate_id, e.payload,
               e.created_at
        FROM webhook_deliveries d
        JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
        LEFT JOIN events e ON e.id = d.event_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND ep.enabled
          AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries p
              WHERE p.endpoint_id = d.endpoint_id AND p.aggregate_id = d.aggregate_id
                AND p.status = 'pending' AND p.event_id < d.event_id)
          AND NOT EXISTS (
              SELECT 1 FROM events o, position
              WHERE o.aggregate_id = d.aggregate_id AND o.id < d.event_id
                AND (o.xid, o.id) > (position.xid, position.event_id))
        ORDER BY d.next_attempt_at
        LIMIT $1
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET next_attempt_at = now() + make_interval(secs => $2), claim = $3
    FROM due WHERE d.id = due.id
    RETURNING due.*
"""

# Results of a batch of attempts. A result whose claim was overtaken (its lease ended and
# another attempt began) is dropped: the newer attempt decides.
APPLY = """
    WITH r AS (
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[], $5::text[],
                             $6::timestamptz[], $7::text[], $8::timestamptz[])
            AS r(id, claim, status_code, latency_ms, error, attempted_at, status, next_at)
    ),
    moved AS (
        UPDATE webhook_deliveries d SET
            status = r.status, attempts = d.attempts + 1, next_attempt_at = r.next_at,
            claim = NULL, last_attempt_at = r.attempted_at, last_status_code = r.status_code,
            last_latency_ms = r.latency_ms, last_error = r.error,
            delivered_at = CASE WHEN r.status = 'delivered' THEN r.attempted_at
                                ELSE d.delivered_at END
        FROM r WHERE d.id = r.id AND d.claim = r.claim
        RETURNING d.id, d.attempts
    )
    INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms,
                                  error)
    SELECT r.id, m.attempts, r.attempted_at, r.status_code, r.latency_ms, r.error
    FROM r JOIN moved m ON m.id = r.id
"""
MARK_HEALTHY = """
    UPDATE webhook_endpoints SET failing_since = NULL
    WHERE id = any($1::uuid[]) AND failing_since IS NOT NULL
"""
MARK_FAILING = """
    UPDATE webhook_endpoints SET failing_since = $2
    WHERE id = any($1::uuid[]) AND failing_since IS NULL
"""
DISABLED_FIELDS = "id, merchant_id, url, disabled_reason, failing_since"
DISABLE_GONE = f"""
    UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'gone', updated_at = now()
    WHERE id = any($1::uuid[]) AND enabled
    RETURNING {DISABLED_FIELDS}
"""
# Endpoints failing since before $1 (any of them when $2 is null, else those listed).
DISABLE_FAILING = f"""
    UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing',
        updated_at = now()
    WHERE enabled AND failing_since < $1 AND ($2::uuid[] IS NULL OR id = any($2::uuid[]))
    RETURNING {DISABLED_FIELDS}
"""
PURGE_FINISHED = """
    DELETE FROM webhook_deliveries
    WHERE status <> 'pending' AND coalesce(last_attempt_at, created_at) < $1
"""
