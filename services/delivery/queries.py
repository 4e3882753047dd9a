"""SQL of delivery: submissions, and the deal rows their use cases lock and read.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

DEAL_FIELDS = """
    d.id, d.merchant_id, d.kol_id, d.status, d.terms, b.review_days, b.min_live_days
"""
LOCK_KOL_DEAL = f"""
    SELECT {DEAL_FIELDS} FROM deals d JOIN briefs b ON b.id = d.brief_id
    WHERE d.id = $1 AND d.kol_id = $2 FOR UPDATE OF d
"""
LOCK_MERCHANT_DEAL = f"""
    SELECT {DEAL_FIELDS} FROM deals d JOIN briefs b ON b.id = d.brief_id
    WHERE d.id = $1 AND d.merchant_id = $2 FOR UPDATE OF d
"""
LOCK_DEAL = f"""
    SELECT {DEAL_FIELDS} FROM deals d JOIN briefs b ON b.id = d.brief_id
    WHERE d.id = $1 FOR UPDATE OF d
"""
SUBMISSION_FIELDS = """
    s.id, s.deal_id, s.deliverable, s.platform, s.url, s.posted_at, s.metrics, s.status,
    s.review_due_at, s.reason, s.reviewed_at, s.auto_approved, s.created_at
"""
COUNT_LIVE = """
    SELECT count(*) FROM submissions
    WHERE deal_id = $1 AND deliverable = $2 AND status = any($3::text[])
"""
# A URL sent back for changes may come again (the post was edited); any other is taken.
URL_TAKEN = """
    SELECT 1 FROM submissions WHERE deal_id = $1 AND url = $2 AND status <> 'changes_requested'
"""
INSERT_SUBMISSION = f"""
    INSERT INTO submissions AS s (deal_id, deliverable, platform, url, posted_at, metrics,
                                  review_due_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING {SUBMISSION_FIELDS}
"""
LIST_SUBMISSIONS = f"""
    SELECT {SUBMISSION_FIELDS} FROM submissions s
    WHERE s.deal_id = $1
      AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2, $3::uuid))
    ORDER BY s.created_at DESC, s.id DESC
    LIMIT $4
"""
MOVE_SUBMISSION = f"""
    UPDATE submissions s SET status = $2 WHERE s.id = $1 RETURNING {SUBMISSION_FIELDS}
"""
LOCK_SUBMISSION = f"""
    SELECT {SUBMISSION_FIELDS} FROM submissions s WHERE s.id = $1 AND s.deal_id = $2 FOR UPDATE
"""
APPROVE_SUBMISSION = f"""
    UPDATE submissions s SET status = 'approved', reviewed_at = $2
    WHERE s.id = $1 AND s.status = 'submitted'
    RETURNING {SUBMISSION_FIELDS}
"""
REQUEST_CHANGES = f"""
    UPDATE submissions s SET status = 'changes_requested', reason = $2, reviewed_at = $3
    WHERE s.id = $1 AND s.status = 'submitted'
    RETURNING {SUBMISSION_FIELDS}
"""
APPROVED_COUNTS = """
    SELECT deliverable, count(*) AS approved FROM submissions
    WHERE deal_id = $1 AND status = 'approved' GROUP BY deliverable
"""

# Deals with a submission whose review window has ended, oldest first.
DEALS_WITH_OVERDUE = """
    SELECT s.deal_id FROM submissions s JOIN deals d ON d.id = s.deal_id
    WHERE s.status = 'submitted' AND s.review_due_at <= $1
      AND d.status = any($2::text[])
    GROUP BY s.deal_id ORDER BY min(s.review_due_at) LIMIT $3
"""
AUTO_APPROVE = f"""
    UPDATE submissions s SET status = 'approved', reviewed_at = $2, auto_approved = true,
                             reason = $3
    WHERE s.deal_id = $1 AND s.status = 'submitted' AND s.review_due_at <= $2
    RETURNING {SUBMISSION_FIELDS}
"""
