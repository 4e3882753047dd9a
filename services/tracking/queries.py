"""SQL of conversions: a whole batch is read with a handful of set queries and written with a
few statements, so a thousand orders cost about what one does.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

PLAN_EACH_TIME = "SET LOCAL plan_cache_mode = force_custom_plan"
LINKS = """
    SELECT code, deal_id FROM tracking_links WHERE merchant_id = $1 AND code = any($2::text[])
"""
# Lists of a batch's keys (up to a thousand) are looked up one key at a time through the key's
# index: given the whole list at once (`= any(...)`), the planner reads the whole table as soon
# as it holds a few hundred thousand rows, a cost that grows with it. The `OFFSET 0` keeps each
# lookup a lookup (the planner may not fold it into a join).
CLICKS = """
    SELECT c.id, c.deal_id, c.clicked_at
    FROM unnest($2::uuid[]) AS k (id)
    CROSS JOIN LATERAL (SELECT * FROM clicks WHERE id = k.id OFFSET 0) AS c
    JOIN deals d ON d.id = c.deal_id
    WHERE d.merchant_id = $1
"""
# A batch's deals, with what attribution needs of them. Shared locks: no deal changes state
# while a batch judges it, and batches on the same deals still read them at once.
DEAL_FACTS = """
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
    FOR SHARE OF d
"""
# The deals' links hold each deal's running total of counted commission: locked in deal id
# order, so two batches naming the same deals never wait on each other in a circle.
LOCK_LINKS = """
    SELECT deal_id, commission_counted FROM tracking_links
    WHERE deal_id = any($1::uuid[])
    ORDER BY deal_id
    FOR NO KEY UPDATE
"""
ADD_COUNTED = """
    UPDATE tracking_links l SET commission_counted = l.commission_counted + t.amount
    FROM unnest($1::uuid[], $2::bigint[]) AS t (deal_id, amount)
    WHERE l.deal_id = t.deal_id
"""
# The counted orders of clicks, leaving out those of $2 (the batch's own, when it checks).
CLICK_ORDERS = """
    SELECT o.click_id, o.occurred_at
    FROM unnest($1::uuid[]) AS k (id)
    CROSS JOIN LATERAL (
        SELECT click_id, occurred_at FROM conversions
        WHERE click_id = k.id AND status <> 'rejected' AND NOT id = any($2::uuid[])
        OFFSET 0
    ) AS o
"""
CONVERSION_COLUMNS = """
    c.id, c.order_id, c.deal_id, c.click_id, c.tracking_code, c.amount, c.currency,
    c.occurred_at, c.buyer_ref, c.status, c.reasons, c.commission, c.platform_cut, c.hold_until,
    c.received_at, c.decided_at, c.reversal_reason, c.review_note
"""
# Counted reports first, so the one that counts answers a repeat; each half is read through
# its own partial index, one order at a time.
EXISTING_ORDERS = f"""
    SELECT r.* FROM unnest($2::text[]) AS o (order_id)
    CROSS JOIN LATERAL (
        (SELECT {CONVERSION_COLUMNS}, 0 AS rank FROM conversions c
         WHERE c.merchant_id = $1 AND c.order_id = o.order_id AND c.status <> 'rejected')
        UNION ALL
        (SELECT {CONVERSION_COLUMNS}, 1 AS rank FROM conversions c
         WHERE c.merchant_id = $1 AND c.order_id = o.order_id AND c.status = 'rejected')
        OFFSET 0
    ) AS r
    ORDER BY r.rank, r.received_at
"""
# The batch travels as one JSON document (`json`, read once as it is parsed, rather than built
# into a `jsonb` first): cheaper for both sides than typed arrays, whose encoding costs the app
# more than the parse costs the server. A plain insert: an order counted by another batch
# meanwhile breaks the unique index, and the batch is judged again (`batches.py`), which is
# cheaper than an arbiter check on every row.
INSERT_CONVERSIONS = """
    INSERT INTO conversions (
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
