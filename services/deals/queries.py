"""SQL of deals: made once per accepted offer, read by both sides and the merchant's partners.

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

# Each deal's tracking link is made with it, pointing at its brief's product page.
INSERT_TRACKING_LINK = """
    INSERT INTO tracking_links (code, deal_id, merchant_id, destination)
    SELECT $1, $2, b.merchant_id, b.product_url FROM briefs b WHERE b.id = $3
    RETURNING code
"""

# A deal moves from one of the states $2 to $3; no row when it was in none of them.
MOVE = """
    UPDATE deals SET status = $3, updated_at = now()
    WHERE id = $1 AND status = any($2::text[])
    RETURNING id, merchant_id, kol_id
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
