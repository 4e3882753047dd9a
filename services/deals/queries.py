"""SQL of deals: made once per accepted offer, moved through their lifecycle only by
`deals.service.move`, read by both sides and the merchant's partners.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

DEAL_FIELDS = """
    d.id, d.offer_id, d.brief_id, d.merchant_id, d.kol_id, d.status, d.terms, d.terms_sha256,
    d.merchant_accepted_at, d.kol_accepted_at, d.created_at
"""

# At most one deal per offer: a second insert for the same offer returns no row.
INSERT_DEAL = f"""
    INSERT INTO deals AS d (offer_id, brief_id, merchant_id, kol_id, revision, terms,
                            terms_sha256, currency, merchant_pays, merchant_accepted_at,
                            kol_accepted_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (offer_id) DO NOTHING
    RETURNING {DEAL_FIELDS}
"""

LOCK = "SELECT id, merchant_id, kol_id, status FROM deals WHERE id = $1 FOR UPDATE"
# The one statement that changes a deal's status; approval also records when ($3).
MOVE = """
    UPDATE deals SET status = $2, approved_at = coalesce($3, approved_at), updated_at = now()
    WHERE id = $1
    RETURNING id, merchant_id, kol_id, status
"""
# Paid deals whose attribution window (from approval) has ended, oldest first.
ATTRIBUTED = """
    SELECT id, merchant_id, kol_id FROM deals
    WHERE status = 'paid' AND approved_at IS NOT NULL
      AND approved_at + make_interval(days => (terms->>'attribution_days')::int) <= $1
    ORDER BY approved_at LIMIT $2
    FOR UPDATE SKIP LOCKED
"""

# A merchant (or its partner) passes its merchant id as $2, a KOL its KOL id as $3.
VISIBLE = "SELECT 1 FROM deals WHERE id = $1 AND (merchant_id = $2 OR kol_id = $3)"
FIND_DEAL = f"""
    SELECT {DEAL_FIELDS}, t.code AS tracking_code
    FROM deals d JOIN tracking_links t ON t.deal_id = d.id
    WHERE d.id = $1 AND (d.merchant_id = $2 OR d.kol_id = $3)
"""
LIST_DEALS = f"""
    SELECT {DEAL_FIELDS}, t.code AS tracking_code
    FROM deals d JOIN tracking_links t ON t.deal_id = d.id
    WHERE (d.merchant_id = $1 OR d.kol_id = $2)
      AND ($3::text IS NULL OR d.status = $3)
      AND ($4::uuid IS NULL OR d.brief_id = $4)
      AND ($5::timestamptz IS NULL OR (d.created_at, d.id) < ($5, $6::uuid))
    ORDER BY d.created_at DESC, d.id DESC
    LIMIT $7
"""
