"""SQL of briefs. Every read and write is scoped to its caller in the WHERE clause.

Statements are composed from the constant column lists and fragments of this module only
(hence the file-wide S608 exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

# Budget use is derived, never stored: deals that still stand, and the open offers whose
# latest revision the merchant proposed (a KOL may accept those at any moment).
COMMITTED = """
    (SELECT coalesce(sum(d.merchant_pays), 0) FROM deals d
     WHERE d.brief_id = b.id AND d.status NOT IN ('cancelled', 'refunded'))::bigint
"""
HELD_BY_OFFER = """
    o.brief_id = b.id AND o.status = 'open' AND o.proposed_by = 'merchant'
    AND o.expires_at > now()
"""
RESERVED = f"(SELECT coalesce(sum(o.commitment), 0) FROM offers o WHERE {HELD_BY_OFFER})::bigint"
FIELDS = """
    b.id, b.merchant_id, b.status, b.title, b.description, b.product_name, b.product_url,
    b.category, b.average_order_value, b.goal_reach, b.goal_conversions, b.budget, b.currency,
    b.platforms, b.tiers, b.deliverables, b.apply_by, b.posting_from, b.posting_until,
    b.commission_bp, b.attribution_days, b.visibility, b.max_counter_rounds, b.review_days,
    b.min_live_days, b.payout_hold_days, b.return_days, b.click_required, b.regions,
    b.min_authenticity, b.payout_ready_required, b.created_at, b.updated_at, b.published_at,
    b.closed_at
"""
COLUMNS = f"{FIELDS}, {COMMITTED} AS committed, {RESERVED} AS reserved"

INSERT_BRIEF = f"""
    INSERT INTO briefs AS b (
        merchant_id, title, description, product_name, product_url, category,
        average_order_value, goal_reach, goal_conversions, budget, currency, platforms, tiers,
        deliverables, apply_by, posting_from, posting_until, commission_bp, attribution_days,
        visibility, max_counter_rounds, review_days, min_live_days, payout_hold_days,
        return_days, click_required, regions, min_authenticity, payout_ready_required
    ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
              $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)
    RETURNING {COLUMNS}
"""
UPDATE_BRIEF = f"""
    UPDATE briefs AS b SET
        title = $3, description = $4, product_name = $5, product_url = $6, category = $7,
        average_order_value = $8, goal_reach = $9, goal_conversions = $10, budget = $11,
        currency = $12, platforms = $13, tiers = $14, deliverables = $15, apply_by = $16,
        posting_from = $17, posting_until = $18, commission_bp = $19, attribution_days = $20,
        visibility = $21, max_counter_rounds = $22, review_days = $23, min_live_days = $24,
        payout_hold_days = $25, return_days = $26, click_required = $27, regions = $28,
        min_authenticity = $29, payout_ready_required = $30, updated_at = now()
    WHERE b.id = $1 AND b.merchant_id = $2
    RETURNING {COLUMNS}
"""
SET_STATUS = f"""
    UPDATE briefs AS b SET
        status = $3,
        updated_at = now(),
        published_at = CASE WHEN $3 = 'open' THEN now() ELSE b.published_at END,
        closed_at = CASE WHEN $3 IN ('closed', 'cancelled') THEN now() ELSE b.closed_at END
    WHERE b.id = $1 AND b.merchant_id = $2
    RETURNING {COLUMNS}
"""

FIND_FOR_MERCHANT = f"SELECT {COLUMNS} FROM briefs b WHERE b.id = $1 AND b.merchant_id = $2"
# Locks read the brief's own fields only: budget use is summed by a later statement, whose
# snapshot (taken after the lock is granted) sees every change committed before it.
LOCK_FOR_MERCHANT = f"""
    SELECT {FIELDS} FROM briefs b WHERE b.id = $1 AND b.merchant_id = $2 FOR UPDATE
"""
# A KOL sees the open briefs anyone may apply to, and any brief it has an offer on.
FIND_FOR_KOL = f"""
    SELECT {COLUMNS} FROM briefs b
    WHERE b.id = $1
      AND ((b.status = 'open' AND b.visibility = 'open')
           OR EXISTS (SELECT 1 FROM offers o WHERE o.brief_id = b.id AND o.kol_id = $2))
"""
LOCK_FOR_KOL = f"""
    SELECT {FIELDS} FROM briefs b
    WHERE b.id = $1
      AND ((b.status = 'open' AND b.visibility = 'open')
           OR EXISTS (SELECT 1 FROM offers o WHERE o.brief_id = b.id AND o.kol_id = $2))
    FOR UPDATE
"""

LIST_FOR_MERCHANT = f"""
    SELECT {COLUMNS} FROM briefs b
    WHERE b.merchant_id = $1
      AND ($2::text IS NULL OR b.status = $2)
      AND ($3::timestamptz IS NULL OR (b.created_at, b.id) < ($3, $4::uuid))
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT $5
"""
# Open briefs that fit the KOL: its categories include the product's, and one of its
# platform accounts is on a wanted platform in a wanted tier. A dimension the KOL has not
# filled in yet (no categories, no accounts) does not narrow the list.
LIST_FOR_KOL = f"""
    SELECT {COLUMNS} FROM briefs b, kols k
    WHERE k.id = $1
      AND b.status = 'open' AND b.visibility = 'open' AND b.apply_by > now()
      AND (cardinality(k.categories) = 0 OR b.category = ANY (k.categories))
      AND (NOT EXISTS (SELECT 1 FROM kol_accounts a WHERE a.kol_id = k.id)
           OR EXISTS (SELECT 1 FROM kol_accounts a
                      WHERE a.kol_id = k.id AND a.platform = ANY (b.platforms)
                        AND a.tier = ANY (b.tiers)))
      AND ($2::timestamptz IS NULL OR (b.published_at, b.id) < ($2, $3::uuid))
    ORDER BY b.published_at DESC, b.id DESC
    LIMIT $4
"""

# Budget use, leaving out one offer (the one being changed) from what is reserved.
BUDGET_USE = f"""
    SELECT {COMMITTED} AS committed,
           (SELECT coalesce(sum(o.commitment), 0) FROM offers o
            WHERE {HELD_BY_OFFER} AND o.id IS DISTINCT FROM $2)::bigint AS reserved
    FROM briefs b WHERE b.id = $1
"""
