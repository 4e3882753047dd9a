"""SQL of a brief's report: one pass per source (ledger, conversions, clicks, submissions),
each grouped by deal.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

BRIEF = """
    SELECT id, title, currency, goal_reach, goal_conversions FROM briefs
    WHERE id = $1 AND merchant_id = $2
"""
# The brief's adopted plan: its totals and what it expects per (platform, tier).
PLAN = """
    SELECT id, (result->>'total_spend')::bigint AS spend,
           (result->>'total_reach')::float8 AS reach,
           (result->>'total_conversions')::float8 AS conversions,
           coalesce(expected, '[]'::jsonb) AS expected
    FROM plans
    WHERE brief_id = $1 AND merchant_id = $2 AND adopted_at IS NOT NULL
"""
# Statuses of the orders a report counts, whether or not their commission is settled yet;
# held (awaiting an operator), rejected and reversed orders do not count.
COUNTED_STATUSES = "('pending', 'approved', 'paid')"
DEALS = f"""
    WITH d AS (
        SELECT id, kol_id, status, created_at,
               terms -> 'deliverables' -> 0 ->> 'platform' AS platform
        FROM deals WHERE brief_id = $1 AND merchant_id = $2
    ),
    money AS (
        SELECT e.deal_id,
               coalesce(sum(p.amount) FILTER (
                   WHERE e.kind = 'funding' AND a.kind = 'stripe_clearing'), 0) AS funded,
               coalesce(-sum(p.amount) FILTER (
                   WHERE e.kind = 'refund' AND a.kind = 'stripe_clearing'), 0) AS refunded,
               coalesce(sum(p.amount) FILTER (
                   WHERE e.kind = 'commission' AND a.kind = 'merchant_receivable'), 0)
                   AS commission_spend
        FROM journal_entries e
        JOIN postings p ON p.entry_id = e.id
        JOIN ledger_accounts a ON a.id = p.account_id
        WHERE e.deal_id IN (SELECT id FROM d)
        GROUP BY e.deal_id
    ),
    orders AS (
        SELECT deal_id,
               count(*) FILTER (WHERE status IN {COUNTED_STATUSES}) AS conversions,
               coalesce(sum(amount) FILTER (WHERE status IN {COUNTED_STATUSES}), 0) AS gmv,
               coalesce(sum(commission) FILTER (WHERE status IN ('pending', 'held')), 0)
                   AS pending_commission
        FROM conversions WHERE deal_id IN (SELECT id FROM d)
        GROUP BY deal_id
    ),
    buyers AS (
        SELECT deal_id, count(*) AS repeat_buyers FROM (
            SELECT deal_id FROM conversions
            WHERE deal_id IN (SELECT id FROM d) AND status IN {COUNTED_STATUSES}
              AND buyer_ref IS NOT NULL
            GROUP BY deal_id, buyer_ref HAVING count(*) > 1
        ) repeat GROUP BY deal_id
    ),
    taps AS (
        SELECT deal_id, count(*) AS clicks FROM clicks
        WHERE deal_id IN (SELECT id FROM d) GROUP BY deal_id
    ),
    content AS (
        SELECT deal_id,
               coalesce(sum((metrics->>'views')::bigint), 0) AS reach,
               coalesce(sum(coalesce((metrics->>'likes')::bigint, 0)
                            + coalesce((metrics->>'comments')::bigint, 0)
                            + coalesce((metrics->>'shares')::bigint, 0)), 0) AS engagement
        FROM submissions
        WHERE deal_id IN (SELECT id FROM d) AND status <> 'changes_requested'
        GROUP BY deal_id
    )
    SELECT d.id AS deal_id, d.kol_id, d.status, d.platform,
           (SELECT a.tier FROM kol_accounts a
            WHERE a.kol_id = d.kol_id AND a.platform = d.platform
            ORDER BY a.followers DESC LIMIT 1) AS tier,
           (coalesce(money.funded, 0) - coalesce(money.refunded, 0))::bigint AS fixed_spend,
           coalesce(money.commission_spend, 0)::bigint AS commission_spend,
           coalesce(orders.pending_commission, 0)::bigint AS pending_commission,
           coalesce(taps.clicks, 0) AS clicks,
           coalesce(orders.conversions, 0) AS conversions,
           coalesce(orders.gmv, 0)::bigint AS gmv,
           coalesce(content.reach, 0)::bigint AS reach,
           coalesce(content.engagement, 0)::bigint AS engagement,
           coalesce(buyers.repeat_buyers, 0) AS repeat_buyers
    FROM d
    LEFT JOIN money ON money.deal_id = d.id
    LEFT JOIN orders ON orders.deal_id = d.id
    LEFT JOIN buyers ON buyers.deal_id = d.id
    LEFT JOIN taps ON taps.deal_id = d.id
    LEFT JOIN content ON content.deal_id = d.id
    ORDER BY d.created_at, d.id
"""
# Buyers who came back, across all the brief's deals.
REPEAT_BUYERS = f"""
    SELECT count(*) FROM (
        SELECT c.buyer_ref FROM conversions c JOIN deals d ON d.id = c.deal_id
        WHERE d.brief_id = $1 AND d.merchant_id = $2 AND c.status IN {COUNTED_STATUSES}
          AND c.buyer_ref IS NOT NULL
        GROUP BY c.buyer_ref HAVING count(*) > 1
    ) repeat
"""
