"""SQL of planning: saved plans and the catalog accounts a selection draws its candidates from."""

INSERT_PLAN = """
    INSERT INTO plans (merchant_id, brief_id, kind, status, problem, created_by)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id, kind, status, brief_id, created_at, finished_at, result, error
"""
INSERT_SOLVED_PLAN = """
    INSERT INTO plans (merchant_id, brief_id, kind, status, problem, created_by, result,
                       finished_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, now())
    RETURNING id, kind, status, brief_id, created_at, finished_at, result, error
"""
FINISH_PLAN = """
    UPDATE plans SET status = $2, result = $3, error = $4, finished_at = now()
    WHERE id = $1
    RETURNING id, kind, status, brief_id, created_at, finished_at, result, error
"""
START_PLAN = """
    UPDATE plans SET status = 'running' WHERE id = $1 AND status IN ('queued', 'running')
    RETURNING kind, problem
"""
FIND_PLAN = """
    SELECT id, kind, status, brief_id, created_at, finished_at, result, error
    FROM plans WHERE id = $1 AND merchant_id = $2
"""
FIND_BRIEF = "SELECT 1 FROM briefs WHERE id = $1 AND merchant_id = $2"

# Candidates: one per catalog account that passes the filters (empty filter = any).
CATALOG_CANDIDATES = """
    SELECT a.id::text AS id, a.platform, a.tier, a.reference_price, a.median_views,
           a.authenticity
    FROM kol_accounts a JOIN kols k ON k.id = a.kol_id
    WHERE (cardinality($1::text[]) = 0 OR a.platform = any($1::text[]))
      AND (cardinality($2::text[]) = 0 OR a.tier = any($2::text[]))
      AND (cardinality($3::text[]) = 0 OR k.categories && $3::text[])
      AND (cardinality($4::text[]) = 0 OR k.region = any($4::text[]))
      AND a.followers >= $5
      AND a.authenticity >= $6
"""
