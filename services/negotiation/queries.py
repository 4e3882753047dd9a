"""SQL of offers and their revisions, and of the deal an accepted offer becomes.

Reads are scoped to the caller in the WHERE clause (`merchant_id = $2 OR kol_id = $3`, where
the caller has only one of the two). Every change of an offer is guarded in SQL by its status,
its latest revision, who proposed it and its expiry, so a race is decided by the database: the
loser's UPDATE matches no row. Statements are composed from this module's constant fragments
only (hence the file-wide S608 exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

OFFER_FIELDS = """
    o.id, o.brief_id, o.merchant_id, o.kol_id, o.origin, o.status, o.latest_revision,
    o.proposed_by, o.commitment, o.expires_at, o.created_at, o.updated_at
"""

KOL_EXISTS = "SELECT EXISTS (SELECT 1 FROM kols WHERE id = $1)"
PAYOUT_READY = """
    SELECT EXISTS (SELECT 1 FROM payout_accounts WHERE kol_id = $1 AND payouts_enabled)
"""

# The offer with its brief locked, for answers that touch the brief's budget (always the
# brief before the offer). The offer's own columns may be a moment old once the lock is
# granted; the guarded UPDATE that follows reads them afresh and decides.
FIND_LOCKING_BRIEF = f"""
    SELECT {OFFER_FIELDS}, b.budget, b.currency, b.platforms, b.posting_from,
           b.posting_until, b.average_order_value, b.attribution_days, b.max_counter_rounds
    FROM offers o JOIN briefs b ON b.id = o.brief_id
    WHERE o.id = $1 AND (o.merchant_id = $2 OR o.kol_id = $3)
    FOR UPDATE OF b
"""
FIND_OFFER = f"""
    SELECT {OFFER_FIELDS} FROM offers o
    WHERE o.id = $1 AND (o.merchant_id = $2 OR o.kol_id = $3)
"""

# The whole offer as both sides see it: its state, every revision (as JSON text, decoded
# straight into contract structs), and its deal if any.
OFFER_OUT = f"""
    SELECT {OFFER_FIELDS}, d.id AS deal_id,
           (SELECT jsonb_agg(jsonb_build_object(
                       'number', r.number, 'proposed_by', r.proposed_by, 'terms', r.terms,
                       'breakdown', r.breakdown, 'message', r.message,
                       'created_at', r.created_at)
                   ORDER BY r.number)
            FROM offer_revisions r WHERE r.offer_id = o.id)::text AS revisions
    FROM offers o LEFT JOIN deals d ON d.offer_id = o.id
    WHERE o.id = $1
"""
OFFER_OUT_FOR = OFFER_OUT + "AND (o.merchant_id = $2 OR o.kol_id = $3)"

SUMMARY_FIELDS = f"""
    {OFFER_FIELDS}, d.id AS deal_id, r.terms -> 'fixed_fee' AS fixed_fee,
    r.terms ->> 'currency' AS currency
"""
LIST_OFFERS = f"""
    SELECT {SUMMARY_FIELDS}
    FROM offers o
    JOIN offer_revisions r ON r.offer_id = o.id AND r.number = o.latest_revision
    LEFT JOIN deals d ON d.offer_id = o.id
    WHERE (o.merchant_id = $1 OR o.kol_id = $2)
      AND ($3::text IS NULL OR o.status = $3)
      AND ($4::uuid IS NULL OR o.brief_id = $4)
      AND ($5::timestamptz IS NULL OR (o.created_at, o.id) < ($5, $6::uuid))
    ORDER BY o.created_at DESC, o.id DESC
    LIMIT $7
"""

# One open offer per KOL and brief: a second one is refused by the partial unique index.
OPEN_OFFER_OF = "SELECT id FROM offers WHERE brief_id = $1 AND kol_id = $2 AND status = 'open'"
INSERT_OFFER = """
    INSERT INTO offers (brief_id, merchant_id, kol_id, origin, proposed_by, commitment,
                        expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (brief_id, kol_id) WHERE status = 'open' DO NOTHING
    RETURNING id, merchant_id, kol_id
"""
INSERT_REVISION = """
    INSERT INTO offer_revisions (offer_id, number, proposed_by, proposed_by_user, terms,
                                 breakdown, message)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
REVISION = """
    SELECT number, proposed_by, terms, breakdown, created_at FROM offer_revisions
    WHERE offer_id = $1 AND number = $2
"""

# Guards shared by every answer: still open, the named revision is the latest, not lapsed.
GUARD = "o.id = $1 AND o.status = 'open' AND o.latest_revision = $2 AND o.expires_at > now()"

COUNTER = f"""
    UPDATE offers o SET latest_revision = o.latest_revision + 1, proposed_by = $3,
                        commitment = $4, expires_at = $5, updated_at = now()
    WHERE {GUARD} AND o.proposed_by <> $3
    RETURNING o.latest_revision
"""
# Accept and decline are the responder's ($3 is the side that did not propose); withdraw is
# the proposer's ($3 is the side that did).
ANSWER = f"""
    UPDATE offers o SET status = $4, updated_at = now(), closed_at = now()
    WHERE {GUARD} AND o.proposed_by <> $3
    RETURNING {OFFER_FIELDS}
"""
WITHDRAW = f"""
    UPDATE offers o SET status = 'withdrawn', updated_at = now(), closed_at = now()
    WHERE {GUARD} AND o.proposed_by = $3
    RETURNING {OFFER_FIELDS}
"""

# A brief called off takes its open offers with it.
WITHDRAW_OPEN_OF_BRIEF = """
    UPDATE offers SET status = 'withdrawn', updated_at = now(), closed_at = now()
    WHERE brief_id = $1 AND status = 'open'
    RETURNING id, brief_id, merchant_id, kol_id, latest_revision
"""

# Expiry in batches: rows another transaction holds are skipped, not waited for, so several
# workers share the work; the status is checked again on the locked row.
EXPIRE_DUE = f"""
    WITH due AS (
        SELECT id FROM offers
        WHERE status = 'open' AND expires_at <= now()
        ORDER BY expires_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
    )
    UPDATE offers o SET status = 'expired', updated_at = now(), closed_at = now()
    FROM due WHERE o.id = due.id AND o.status = 'open'
    RETURNING {OFFER_FIELDS}
"""
