"""Bulk history for benchmarks and query-plan checks, written with generate_series.

`seed_history` adds users, generations (spread over `days` days, mostly completed,
some failed or cancelled and refunded, a few still live), their ledger rows and
paid payments, in a few INSERT ... SELECT statements: a million generations take
seconds, not the hours the ORM would need. The rows are realistic in shape (sizes,
timestamps, statuses, index selectivity), not in money: balances are not kept in
step with the ledger, so never run `audit_ledger` on a seeded database.
"""

from typing import Any


def seed_history(
    cursor: Any,
    *,
    users: int,
    generations: int,
    days: int = 365,
    first_telegram_id: int = 500_000_000,
    payments: int | None = None,
    live: int = 50,
    credits: int = 1000,
    rebuild_indexes: bool = False,
) -> None:
    """Add `users` users with `generations` generations between them (the newest `live`
    of them pending or processing), one ledger row per charge and refund, and paid payments.

    With `rebuild_indexes`, the secondary indexes of the two big tables are dropped
    before the insert and built again after it: for a million rows that is several
    times faster than updating ten indexes row by row."""
    dropped = _indexes_drop(cursor, BIG_TABLES) if rebuild_indexes else []
    params = {
        "users": users,
        "generations": generations,
        "seconds": days * 86400,
        "first": first_telegram_id,
        "payments": users // 2 if payments is None else payments,
        "live": live,
        "credits": credits,
    }
    cursor.execute(
        """
        INSERT INTO accounts_user (password, is_superuser, telegram_id, username, first_name, last_name,
            language_code, is_premium, credits, is_banned, is_reachable, referral_code, is_staff, is_active,
            created_at, updated_at)
        SELECT '!', false, %(first)s + i, 'user' || i, 'User', '', CASE WHEN i %% 3 = 0 THEN 'ru' ELSE 'en' END,
            false, %(credits)s, false, true, 'b' || (%(first)s + i), false, true,
            now() - make_interval(secs => %(seconds)s * (1 - i::float / %(users)s)),
            now()
        FROM generate_series(1, %(users)s) AS i
        """,
        params,
    )
    # One user in five came with a referral link of an earlier seeded user.
    cursor.execute(
        """
        UPDATE accounts_user u SET referred_by_id = r.id
        FROM accounts_user r
        WHERE u.telegram_id >= %(first)s + 2 AND u.telegram_id < %(first)s + %(users)s + 1
          AND (u.telegram_id - %(first)s) %% 5 = 0 AND r.telegram_id = u.telegram_id - 1
        """,
        params,
    )
    cursor.execute(
        """
        CREATE TEMP TABLE seed_users ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM accounts_user
        WHERE telegram_id > %(first)s AND telegram_id <= %(first)s + %(users)s;
        CREATE TEMP TABLE seed_models ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, kind, price FROM generations_aimodel;
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO generations_generation (user_id, model_id, kind, prompt, params, status, credits_charged,
            refunded, payload_hash, result_file, result_content_type, error_code, error_message, provider_job_id,
            attempts, timeout_at, created_at, started_at, finished_at)
        SELECT u.id, m.id, m.kind, 'a cat in a hat number ' || g, '{}'::jsonb,
            s.status, m.price, s.status IN ('failed', 'cancelled'), md5(g::text),
            CASE WHEN s.status = 'completed' THEN 'generations/seed/' || g || '.png' ELSE '' END,
            CASE WHEN s.status = 'completed' THEN 'image/png' ELSE '' END,
            CASE WHEN s.status = 'failed'
                 THEN (ARRAY['PROVIDER_UNAVAILABLE', 'TIMEOUT', 'CONTENT_REJECTED'])[1 + g %% 3] ELSE '' END,
            CASE WHEN s.status = 'failed' THEN 'seeded failure' ELSE '' END,
            '', CASE WHEN s.status = 'pending' THEN 0 ELSE 1 END,
            t.created_at + interval '15 minutes', t.created_at,
            CASE WHEN s.status IN ('pending') OR (s.status = 'cancelled' AND g %% 2 = 0) THEN NULL
                 ELSE t.created_at + interval '1 second' END,
            CASE WHEN s.status IN ('pending', 'processing') THEN NULL
                 ELSE t.created_at + make_interval(secs => 2 + (g %% 37) * CASE WHEN m.kind = 'video' THEN 5 ELSE 1 END)
            END
        FROM generate_series(1, %(generations)s) AS g
        CROSS JOIN LATERAL (SELECT now() - make_interval(secs => %(seconds)s * (1 - g::float / %(generations)s))
                            AS created_at) t
        CROSS JOIN LATERAL (SELECT CASE
            WHEN g > %(generations)s - %(live)s THEN CASE WHEN g %% 2 = 0 THEN 'pending' ELSE 'processing' END
            WHEN g %% 100 < 88 THEN 'completed' WHEN g %% 100 < 95 THEN 'failed' ELSE 'cancelled' END AS status) s
        JOIN seed_users u ON u.n = (g::bigint * 7919) %% %(users)s
        JOIN seed_models m ON m.n = g %% (SELECT count(*) FROM seed_models)
        """,
        params,
    )
    cursor.execute(
        """
        CREATE TEMP TABLE seed_generations ON COMMIT DROP AS
        SELECT g.id, g.user_id, g.credits_charged, g.status, g.created_at, g.finished_at
        FROM generations_generation g JOIN seed_users u ON u.id = g.user_id;
        INSERT INTO accounts_creditledgerentry (user_id, amount, kind, balance_after, reference, note, created_at)
        SELECT user_id, -credits_charged, 'generation_charge', 0, 'generation:' || id, '', created_at
        FROM seed_generations;
        INSERT INTO accounts_creditledgerentry (user_id, amount, kind, balance_after, reference, note, created_at)
        SELECT user_id, credits_charged, 'generation_refund', credits_charged, 'generation:' || id, '', finished_at
        FROM seed_generations WHERE status IN ('failed', 'cancelled');
        """
    )
    cursor.execute(
        """
        CREATE TEMP TABLE seed_payments ON COMMIT DROP AS
        SELECT p, u.id AS user_id, k.id AS pack_id, k.stars, k.credits,
            now() - make_interval(secs => %(seconds)s * (1 - p::float / greatest(%(payments)s, 1))) AS paid_at
        FROM generate_series(1, %(payments)s) AS p
        JOIN seed_users u ON u.n = (p::bigint * 104729) %% %(users)s
        JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, stars, credits FROM payments_creditpack) k
          ON k.n = p %% (SELECT count(*) FROM payments_creditpack);
        INSERT INTO payments_payment (user_id, pack_id, stars, credits, status, invoice_payload, invoice_link,
            failure_reason, telegram_payment_charge_id, provider_payment_charge_id, created_at, updated_at, paid_at,
            refund_reason, refund_forced, refund_credits_removed, refund_earnings_reversed, refund_attempts,
            affiliate, affiliate_commission, refunded_outside)
        SELECT user_id, pack_id, stars, credits, 'paid', '', '', '', 'seed-' || %(first)s || '-' || p, '',
            paid_at - interval '1 minute', paid_at, paid_at, '', false, 0, 0, 0, '', 0, false
        FROM seed_payments;
        INSERT INTO accounts_creditledgerentry (user_id, amount, kind, balance_after, reference, note, created_at)
        SELECT s.user_id, s.credits, 'purchase', s.credits, 'payment:' || pay.id, '', s.paid_at
        FROM seed_payments s
        JOIN payments_payment pay ON pay.telegram_payment_charge_id = 'seed-' || %(first)s || '-' || s.p;
        """,
        params,
    )
    if dropped:
        # Django's foreign keys are checked at commit (deferred); an index cannot be
        # built on a table with checks pending, so run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for definition in dropped:
        cursor.execute(definition)
    cursor.execute("ANALYZE accounts_user, generations_generation, accounts_creditledgerentry, payments_payment")


BIG_TABLES = ("generations_generation", "accounts_creditledgerentry")


def _indexes_drop(cursor: Any, tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes of `tables` that back no constraint; return their definitions."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes]
