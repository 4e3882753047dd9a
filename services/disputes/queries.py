"""SQL of disputes: takedown reports, their resolution, and operators' lists.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

LOCK_MERCHANT_DEAL = """
    SELECT d.id, d.merchant_id, d.kol_id, d.status, d.currency, b.min_live_days
    FROM deals d JOIN briefs b ON b.id = d.brief_id
    WHERE d.id = $1 AND d.merchant_id = $2 FOR UPDATE OF d
"""
LOCK_DEAL = """
    SELECT d.id, d.merchant_id, d.kol_id, d.status, d.currency FROM deals d
    WHERE d.id = $1 FOR UPDATE
"""

DISPUTE_FIELDS = """
    x.id, x.deal_id, x.submission_id, x.kind, x.opened_by, x.note, x.observed_at,
    x.prior_status, x.status, x.outcome, x.refund_amount, x.resolution_note, x.resolved_at,
    x.created_at
"""
INSERT_TAKEDOWN = f"""
    INSERT INTO disputes AS x (deal_id, submission_id, kind, opened_by, note, observed_at,
                               prior_status)
    VALUES ($1, $2, 'takedown', $3, $4, $5, $6)
    RETURNING {DISPUTE_FIELDS}
"""
FIND_DISPUTE = f"SELECT {DISPUTE_FIELDS} FROM disputes x WHERE x.id = $1"
LOCK_DISPUTE = f"SELECT {DISPUTE_FIELDS} FROM disputes x WHERE x.id = $1 FOR UPDATE"
RESOLVE = f"""
    UPDATE disputes x SET status = 'resolved', outcome = $2, refund_amount = $3,
        resolution_note = $4, resolved_at = $5
    WHERE x.id = $1 AND x.status = 'open'
    RETURNING {DISPUTE_FIELDS}
"""
LIST_DISPUTES = f"""
    SELECT {DISPUTE_FIELDS} FROM disputes x
    WHERE ($1::text IS NULL OR x.status = $1)
      AND ($2::uuid IS NULL OR x.deal_id = $2)
      AND ($3::timestamptz IS NULL OR (x.created_at, x.id) < ($3, $4::uuid))
    ORDER BY x.created_at DESC, x.id DESC
    LIMIT $5
"""
