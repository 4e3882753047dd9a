"""SQL of the events feed: a caller's events after a position, in commit order.

Statements are composed from this module's constant fragments only; values always travel
as $n parameters. Transaction ids travel as text.
"""

_READ = """
    WITH snap AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
    SELECT snap.xmin::text AS xmin, e.id, e.xid, e.type, e.aggregate_type, e.aggregate_id,
           e.payload, e.created_at
    FROM snap LEFT JOIN LATERAL (
        SELECT e.id, e.xid::text AS xid, e.type, e.aggregate_type, e.aggregate_id, e.payload,
               e.created_at
        FROM events e
        WHERE {scope}
          AND (e.xid, e.id) > ($1::text::xid8, $2::bigint) AND e.xid < snap.xmin
          AND ($3::text[] IS NULL OR e.type = any($3::text[]))
          AND ($4::uuid IS NULL OR e.aggregate_id = $4)
          AND ($5::timestamptz IS NULL OR e.created_at >= $5)
          AND ($6::timestamptz IS NULL OR e.created_at < $6)
        ORDER BY e.xid, e.id
        LIMIT $7
    ) e ON true
"""

# Who sees what: a merchant's members and partners the events of its merchant, a KOL those
# naming it, operators every event.
READ_BY_SCOPE = {
    "merchant": _READ.format(scope="e.merchant_id = $8"),
    "kol": _READ.format(scope="e.kol_id = $8"),
    "all": _READ.format(scope="$8::uuid IS NULL"),
}

SNAPSHOT_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"
