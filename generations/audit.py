"""`audit_ledger`'s check of the generation money rule (registered in GenerationsConfig.ready).

Every generation has exactly one GENERATION_CHARGE of minus its `credits_charged`;
every failed or cancelled one has exactly one GENERATION_REFUND of its charge and
`refunded` set; no other generation has a refund; all of them on the generation's
user, with the reference `generation:<id>`; and no such ledger row points to a
generation that does not exist.

Two aggregate queries (the ledger is grouped by reference once and hash-joined to
the generations), not a loop over rows: it stays fast on millions of generations.
"""

from collections.abc import Iterator

from django.db import connection

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import Generation

REFUNDED = (Generation.Status.FAILED, Generation.Status.CANCELLED)

_PROBLEMS_SQL = """
WITH ledger AS (
    SELECT reference,
           SUM(CASE WHEN kind = %(charge)s THEN 1 ELSE 0 END) AS charges,
           SUM(CASE WHEN kind = %(charge)s THEN amount ELSE 0 END) AS charged,
           SUM(CASE WHEN kind = %(refund)s THEN 1 ELSE 0 END) AS refunds,
           SUM(CASE WHEN kind = %(refund)s THEN amount ELSE 0 END) AS refunded,
           MIN(user_id) AS min_user,
           MAX(user_id) AS max_user
    FROM {ledger}
    WHERE kind IN (%(charge)s, %(refund)s) AND reference LIKE 'generation:%%'
    GROUP BY reference
)
SELECT g.id, g.status, g.credits_charged, g.refunded, g.user_id,
       COALESCE(l.charges, 0), COALESCE(l.charged, 0), COALESCE(l.refunds, 0), COALESCE(l.refunded, 0),
       l.min_user, l.max_user
FROM {generation} g
LEFT JOIN ledger l ON l.reference = 'generation:' || CAST(g.id AS TEXT)
WHERE COALESCE(l.charges, 0) <> 1
   OR COALESCE(l.charged, 0) <> -g.credits_charged
   OR l.min_user <> g.user_id
   OR l.max_user <> g.user_id
   OR (g.status IN (%(failed)s, %(cancelled)s)
       AND (COALESCE(l.refunds, 0) <> 1 OR COALESCE(l.refunded, 0) <> g.credits_charged OR g.refunded = %(no)s))
   OR (g.status NOT IN (%(failed)s, %(cancelled)s) AND (COALESCE(l.refunds, 0) <> 0 OR g.refunded = %(yes)s))
ORDER BY g.id
"""

_ORPHANS_SQL = """
SELECT l.id, l.kind, l.reference
FROM {ledger} l
LEFT JOIN {generation} g ON l.reference = 'generation:' || CAST(g.id AS TEXT)
WHERE l.kind IN (%(charge)s, %(refund)s) AND l.reference LIKE 'generation:%%' AND g.id IS NULL
ORDER BY l.id
"""


def generation_money_rule() -> Iterator[str]:
    tables = {"ledger": CreditLedgerEntry._meta.db_table, "generation": Generation._meta.db_table}
    params = {
        "charge": CreditKind.GENERATION_CHARGE,
        "refund": CreditKind.GENERATION_REFUND,
        "failed": Generation.Status.FAILED,
        "cancelled": Generation.Status.CANCELLED,
        "yes": True,
        "no": False,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PROBLEMS_SQL.format(**tables), params)
        for row in cursor:
            yield _describe(*row)
        cursor.execute(_ORPHANS_SQL.format(**tables), params)
        for entry_id, kind, reference in cursor:
            yield f"ledger entry {entry_id} ({kind}) refers to {reference}, which does not exist"


def _describe(
    generation_id: int,
    status: str,
    price: int,
    refunded_flag: bool,
    user_id: int,
    charges: int,
    charged: int,
    refunds: int,
    refunded: int,
    min_user: int | None,
    max_user: int | None,
) -> str:
    problems = []
    if charges != 1 or charged != -price:
        problems.append(f"{charges} charge(s) totalling {charged} (expected one of {-price})")
    if status in REFUNDED:
        if refunds != 1 or refunded != price:
            problems.append(f"{refunds} refund(s) totalling {refunded} (expected one of {price})")
        if not refunded_flag:
            problems.append("not marked refunded")
    else:
        if refunds:
            problems.append(f"{refunds} refund(s) totalling {refunded} (expected none)")
        if refunded_flag:
            problems.append("marked refunded")
    if min_user is not None and (min_user != user_id or max_user != user_id):
        problems.append(f"ledger rows on another user than {user_id}")
    return f"generation {generation_id} ({status}, price {price}): " + "; ".join(problems)
