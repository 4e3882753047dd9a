"""SQL of conversions: a whole batch is read with a handful of set queries and written with one
insert, so a thousand orders cost about what one does.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

PLAN_EACH_TIME = "SET LOCAL plan_cache_mode = force_custom_plan"
LINKS = """
    SELECT code, deal_id FROM tracking_links WHERE merchant_id = $1 AND code = any($2::text[])
"""
CLICKS = """
    SELECT c.id, c.deal_id, c.clicked_at
    FROM clicks c JOIN deals d ON d.id = c.deal_id
    WHERE d.merchant_id = $1 AND c.id = any($2::uuid[])
"""
# The deals' links (holding each deal's running total of counted commission) are locked in
# deal id order, so two batches naming the same deals never wait on each other in a circle;
# the deals themselves are shared-locked, so none changes state while the batch judges it.
LOCK_DEALS = """
    SELECT d.id, d.kol_id, d.status, d.currency, d.created_at, d.approved_at,
           t.commission_counted,
           (d.terms->>'commission_bp')::int AS commission_bp,
           (d.terms->>'commission_cap')::bigint AS commission_cap,
           (d.terms->>'take_rate_bp')::int AS take_rate_bp,
           (d.terms->>'attribution_days')::int AS attribution_days,
           b.return_days, b.click_required,
           encode(sha256(convert_to(coalesce(u.email, ''), 'UTF8')), 'hex') AS kol_buyer_ref
    FROM deals d
    JOIN tracking_links t ON t.deal_id = d.id
    JOIN briefs b ON b.id = d.brief_id
    JOIN kols k ON k.id = d.kol_id
    LEFT JOIN users u ON u.id = k.user_id
    WHERE d.id = any($1::uuid[]) AND d.merchant_id = $2
    ORDER BY d.id
    FOR NO KEY UPDATE OF t
    FOR SHARE OF d
"""
CLICK_ORDERS = """
    SELECT click_id, occurred_at FROM conversions
    WHERE click_id = any($1::uuid[]) AND status <> 'rejected'
"""
CONVERSION_COLUMNS = """
    c.id, c.order_id, c.deal_id, c.click_id, c.tracking_code, c.amount, c.currency,
    c.occurred_at, c.buyer_ref, c.status, c.reasons, c.commission, c.platform_cut, c.hold_until,
    c.received_at, c.decided_at, c.reversal_reason, c.review_note
"""
# Counted reports first, so the one that counts answers a repeat; each half is read through
# its own partial index.
EXISTING_ORDERS = f"""
    (SELECT {CONVERSION_COLUMNS}, 0 AS rank FROM conversions c
     WHERE c.merchant_id = $1 AND c.order_id = any($2::text[]) AND c.status <> 'rejected')
    UNION ALL
    (SELECT {CONVERSION_COLUMNS}, 1 AS rank FROM conversions c
     WHERE c.merchant_id = $1 AND c.order_id = any($2::text[]) AND c.status = 'rejected')
    ORDER BY rank, received_at
"""
# The batch travels as one JSON document (`json`, read once as it is parsed, rather than built
# into a `jsonb` first): cheaper for both sides than typed arrays, whose encoding costs the app
# more than the parse costs the server. The one statement stores the orders, adds their
# commissions to their deals' running totals (on the deals' tracking links) and answers how
# many orders it stored. A plain insert: an order counted by another batch meanwhile breaks
# the unique index and fails the whole batch, which is cheaper than an arbiter check per row.
INSERT_CONVERSIONS = """
    WITH written AS (
        INSERT INTO conversions AS c (
            id, merchant_id, order_id, deal_id, click_id, tracking_code, amount, currency,
            occurred_at, buyer_ref, status, reasons, commission, platform_cut, hold_until,
            received_at
        )
        SELECT r.id, $1, r.order_id, r.deal_id, r.click_id, r.tracking_code, r.amount,
               r.currency, r.occurred_at, r.buyer_ref, r.status, r.reasons, r.commission,
               r.platform_cut, r.hold_until, $2
        FROM json_to_recordset($3::text::json) AS r (
            id uuid, order_id text, deal_id uuid, click_id uuid, tracking_code text,
            amount bigint, currency text, occurred_at timestamptz, buyer_ref text, status text,
            reasons text[], commission bigint, platform_cut bigint, hold_until timestamptz
        )
        RETURNING c.deal_id, c.commission
    ),
    counted AS (
        UPDATE tracking_links l SET commission_counted = l.commission_counted + t.amount
        FROM (
            SELECT deal_id, sum(commission)::bigint AS amount FROM written
            WHERE commission > 0 GROUP BY deal_id
        ) AS t
        WHERE l.deal_id = t.deal_id
    )
    SELECT count(*) FROM written
"""

FIND_CONVERSION = f"""
    SELECT {CONVERSION_COLUMNS}, d.merchant_id, d.kol_id
    FROM conversions c LEFT JOIN deals d ON d.id = c.deal_id
    WHERE c.id = $1 AND (c.merchant_id = $2 OR d.kol_id = $3)
"""
LOCK_CONVERSION = f"""
    SELECT {CONVERSION_COLUMNS}, c.merchant_id, d.kol_id
    FROM conversions c LEFT JOIN deals d ON d.id = c.deal_id
    WHERE c.id = $1 AND ($2::uuid IS NULL OR c.merchant_id = $2)
    FOR UPDATE OF c
"""
SUBTRACT_COUNTED = """
    UPDATE tracking_links SET commission_counted = commission_counted - $2 WHERE deal_id = $1
"""
REVERSE = f"""
    UPDATE conversions c SET status = 'reversed', reversal_reason = $2, decided_at = $3
    WHERE c.id = $1
    RETURNING {CONVERSION_COLUMNS}
"""
REVIEWED = f"""
    UPDATE conversions c
    SET status = $2, decided_at = $3, review_note = $4
    WHERE c.id = $1 AND c.status = 'held'
    RETURNING {CONVERSION_COLUMNS}
"""
# Lists newest first, each through an index of its own: a merchant's, a deal's (once the
# caller is known to see the deal), a KOL's deals', and one order's reports.
PAGE = """
      AND ($2::text IS NULL OR c.status = $2)
      AND ($3::timestamptz IS NULL OR (c.received_at, c.id) < ($3, $4::uuid))
    ORDER BY c.received_at DESC, c.id DESC
    LIMIT $5
"""
MERCHANT_CONVERSIONS = f"""
    SELECT {CONVERSION_COLUMNS} FROM conversions c WHERE c.merchant_id = $1 {PAGE}
"""
DEAL_CONVERSIONS = f"""
    SELECT {CONVERSION_COLUMNS} FROM conversions c WHERE c.deal_id = $1 {PAGE}
"""
KOL_CONVERSIONS = f"""
    SELECT {CONVERSION_COLUMNS} FROM conversions c
    WHERE c.deal_id IN (SELECT id FROM deals WHERE kol_id = $1) {PAGE}
"""
KOL_ORDER_REPORTS = f"""
    SELECT {CONVERSION_COLUMNS} FROM conversions c
    WHERE c.deal_id IN (SELECT id FROM deals WHERE kol_id = $1) AND c.order_id = $2
    ORDER BY c.received_at DESC, c.id DESC
    LIMIT 100
"""
HELD = f"""
    SELECT {CONVERSION_COLUMNS} FROM conversions c
    WHERE c.status = 'held'
      AND ($1::timestamptz IS NULL OR (c.received_at, c.id) > ($1, $2::uuid))
    ORDER BY c.received_at, c.id
    LIMIT $3
"""
