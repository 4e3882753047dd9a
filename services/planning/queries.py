"""SQL of planning: plans and their chosen creators, the catalog accounts a derived plan draws
from, and the watchdog that ends plans left running.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

PLAN_COLUMNS = """
    id, merchant_id, kind, status, brief_id, source_plan_id, created_at, started_at,
    finished_at, adopted_at, stop_reason, rate_card_version, result, error, failure,
    progress, derivation,
    EXISTS (SELECT 1 FROM plan_items i WHERE i.plan_id = plans.id) AS has_items
"""
INSERT_QUEUED = f"""
    INSERT INTO plans (merchant_id, brief_id, kind, status, problem, created_by,
                       time_limit_seconds, source_plan_id)
    VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7)
    RETURNING {PLAN_COLUMNS}
"""
INSERT_FINISHED = f"""
    INSERT INTO plans (merchant_id, brief_id, kind, status, problem, created_by,
                       time_limit_seconds, source_plan_id, result, stop_reason, failure, error,
                       expected, derivation, rate_card_version, started_at, finished_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now(), now())
    RETURNING {PLAN_COLUMNS}
"""
# Running a plan again (a retried job) starts it afresh; an ended plan stays as it ended.
START_PLAN = """
    UPDATE plans SET status = 'running', started_at = now(), attempts = attempts + 1,
                     progress = NULL
    WHERE id = $1 AND status IN ('queued', 'running')
    RETURNING id, merchant_id, brief_id, kind, problem, created_by, source_plan_id
"""
# Only a running plan ends by its job: a cancelled (or overdue) one keeps its end.
FINISH_PLAN = """
    UPDATE plans SET status = $2, result = $3, stop_reason = $4, failure = $5, error = $6,
                     expected = $7, derivation = coalesce($8, derivation),
                     rate_card_version = coalesce($9, rate_card_version), progress = NULL,
                     finished_at = now()
    WHERE id = $1 AND status = 'running'
    RETURNING id, merchant_id, brief_id, kind
"""
SET_PROGRESS = """
    UPDATE plans SET progress = $2 WHERE id = $1 AND status = 'running' RETURNING id
"""
CANCEL_PLAN = """
    UPDATE plans SET status = 'cancelled', progress = NULL, finished_at = now()
    WHERE id = $1 AND merchant_id = $2 AND status IN ('queued', 'running')
    RETURNING id, merchant_id, brief_id, kind
"""
FIND_PLAN = f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1 AND merchant_id = $2"
FIND_PLAN_PROBLEM = f"""
    SELECT {PLAN_COLUMNS}, problem, time_limit_seconds, expected FROM plans
    WHERE id = $1 AND merchant_id = $2
"""
FIND_BRIEF = "SELECT 1 FROM briefs WHERE id = $1 AND merchant_id = $2"
# Adoption is decided under the brief's lock: one plan of record per brief.
LOCK_BRIEF = "SELECT id FROM briefs WHERE id = $1 AND merchant_id = $2 FOR UPDATE"
UNADOPT = """
    UPDATE plans SET adopted_at = NULL
    WHERE brief_id = $1 AND adopted_at IS NOT NULL AND id <> $2
    RETURNING id
"""
ADOPT = f"""
    UPDATE plans SET adopted_at = coalesce(adopted_at, now())
    WHERE id = $1 AND merchant_id = $2 AND status = 'solved' AND brief_id IS NOT NULL
    RETURNING {PLAN_COLUMNS}
"""
LIST_BRIEF_PLANS = """
    SELECT id, kind, status, stop_reason, source_plan_id, adopted_at, created_at, finished_at,
           (result ->> 'total_spend')::bigint AS total_spend,
           (result ->> 'total_reach')::float8 AS total_reach,
           (result ->> 'total_conversions')::float8 AS total_conversions,
           (result ->> 'total_creators')::int AS total_creators,
           (result ->> 'bound')::float8 AS bound, (result ->> 'gap')::float8 AS gap
    FROM plans
    WHERE brief_id = $1 AND merchant_id = $2
      AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
    ORDER BY created_at DESC, id DESC
    LIMIT $5
"""

DELETE_ITEMS = "DELETE FROM plan_items WHERE plan_id = $1"
# The chosen creators travel as one JSON array, in the plan's order.
INSERT_ITEMS = """
    INSERT INTO plan_items (plan_id, position, account_id, kol_id, item)
    SELECT $1, e.position, (e.value ->> 'account_id')::uuid, (e.value ->> 'kol_id')::uuid,
           e.value
    FROM jsonb_array_elements($2::text::jsonb) WITH ORDINALITY AS e (value, position)
"""
ITEMS_PAGE = """
    SELECT position, item FROM plan_items
    WHERE plan_id = $1 AND position > $2 ORDER BY position LIMIT $3
"""
ITEMS_OF_KOLS = """
    SELECT position, kol_id, item FROM plan_items
    WHERE plan_id = $1 AND (cardinality($2::uuid[]) = 0 OR kol_id = any($2::uuid[]))
    ORDER BY position
"""

# ---- The catalog accounts a derived plan draws from ----------------------------------------
# Available: on a wanted platform and tier, covering a wanted category, from a wanted region,
# in a kept segment, big enough, above the authenticity floor, not engaged on the brief yet,
# payout-ready when the brief requires it, and open to offers. An empty list wants any.
MATCHING = """
    (cardinality($1::text[]) = 0 OR a.platform = any($1::text[]))
    AND (cardinality($2::text[]) = 0 OR a.tier = any($2::text[]))
    AND (cardinality($3::text[]) = 0 OR a.kol_categories && $3::text[])
    AND (cardinality($4::text[]) = 0 OR a.kol_region = any($4::text[]))
    AND (cardinality($5::text[]) = 0 OR a.platform || ':' || a.tier = any($5::text[]))
    AND a.followers >= $6::bigint
    AND a.authenticity >= $7::float8
    AND NOT a.kol_id = any($8::uuid[])
    AND (NOT $9::boolean OR EXISTS (
        SELECT 1 FROM payout_accounts p WHERE p.kol_id = a.kol_id AND p.payouts_enabled))
    AND NOT EXISTS (
        SELECT 1 FROM kols k
        WHERE k.id = a.kol_id AND k.contact_preferences @> '{"open_to_offers": false}')
"""
# Medians are the lower middle value (percentile_disc), an actual account's figure.
SEGMENT_FIGURES = f"""
    SELECT a.platform, a.tier, count(*) AS accounts,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY a.followers) AS median_followers,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY a.median_views) AS median_views,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY a.engagement_rate) AS median_engagement,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY a.authenticity) AS median_authenticity,
           sum(greatest(a.followers, a.median_views))::float8 AS audience
    FROM kol_accounts a
    WHERE {MATCHING}
    GROUP BY a.platform, a.tier
    ORDER BY a.platform, a.tier
"""
COUNT_MATCHING = f"SELECT count(*) FROM kol_accounts a WHERE {MATCHING}"
MATCHING_ACCOUNTS = f"""
    SELECT a.id, a.kol_id, a.handle, a.platform, a.tier, a.followers, a.median_views,
           a.engagement_rate, a.authenticity
    FROM kol_accounts a
    WHERE {MATCHING}
    ORDER BY a.id
"""
ACCOUNTS_BY_ID = """
    SELECT a.id, a.kol_id, a.handle, a.platform, a.tier, a.followers, a.median_views,
           a.engagement_rate, a.authenticity
    FROM kol_accounts a WHERE a.id = any($1::uuid[])
"""
# KOLs the brief already engages: an open offer, or a deal that stands.
ENGAGED_KOLS = """
    SELECT kol_id FROM offers WHERE brief_id = $1 AND status = 'open'
    UNION
    SELECT kol_id FROM deals WHERE brief_id = $1 AND status NOT IN ('cancelled', 'refunded')
"""

# ---- Watchdog -------------------------------------------------------------------------------
OVERDUE = """
    UPDATE plans SET status = 'failed', progress = NULL, finished_at = now(),
                     failure = jsonb_build_object(
                         'type', $2::text, 'title', $3::text,
                         'detail', format($4::text, time_limit_seconds)),
                     error = format($4::text, time_limit_seconds)
    WHERE status = 'running'
      AND started_at + make_interval(secs => time_limit_seconds + $1) < now()
    RETURNING id, merchant_id, brief_id, kind
"""
# A plan whose job is no longer waiting or running (it failed every attempt, or was aborted).
ORPHANED = """
    UPDATE plans p SET status = 'failed', progress = NULL, finished_at = now(),
                       failure = $2::jsonb, error = $2::jsonb ->> 'detail'
    WHERE p.status IN ('queued', 'running') AND p.created_at < now() - make_interval(secs => $1)
      AND NOT EXISTS (
          SELECT 1 FROM procrastinate_jobs j
          WHERE j.task_name = 'planning:solve_plan' AND j.args ->> 'plan_id' = p.id::text
            AND j.status IN ('todo', 'doing'))
    RETURNING id, merchant_id, brief_id, kind
"""
