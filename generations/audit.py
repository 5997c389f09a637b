"""`audit_ledger`'s check of the generation money rule (registered in GenerationsConfig.ready).

Every generation has exactly one GENERATION_CHARGE of minus its `credits_charged`;
every failed or cancelled one has exactly one GENERATION_REFUND of its charge and
`refunded` set; no other generation has a refund; all of them on the generation's
user, with the reference `generation:<id>`; and no such ledger row points to a
generation that does not exist.

One aggregate query (the ledger grouped by generation id, joined to the
generations), not a loop over rows.
"""

from collections.abc import Iterator

from django.db import connection, transaction

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import Generation

REFUNDED = (Generation.Status.FAILED, Generation.Status.CANCELLED)

# The ledger grouped by generation id, parsed from the reference `generation:<id>`
# (an integer join key: hashing a million text keys costs several times more). A
# reference that is not `generation:` and 1 to 18 digits gets a NULL id (LTRIM of
# the digits must leave nothing: a cheap test, unlike a regular expression, and the
# CASE keeps the CAST from ever seeing anything else).
#
# Then one statement: the generations that break the rule, and the ledger rows
# whose generation does not exist or whose reference is malformed (status NULL).
_PROBLEMS_SQL = """
WITH ledger AS (
    SELECT CASE WHEN LENGTH(reference) BETWEEN 12 AND 29 AND LTRIM(SUBSTR(reference, 12), '0123456789') = ''
                THEN CAST(SUBSTR(reference, 12) AS BIGINT) END AS generation_id,
           MIN(reference) AS reference,
           SUM(CASE WHEN kind = %(charge)s THEN 1 ELSE 0 END) AS charges,
           SUM(CASE WHEN kind = %(charge)s THEN CAST(amount AS INTEGER) ELSE 0 END) AS charged,
           SUM(CASE WHEN kind = %(refund)s THEN 1 ELSE 0 END) AS refunds,
           SUM(CASE WHEN kind = %(refund)s THEN CAST(amount AS INTEGER) ELSE 0 END) AS refunded,
           MIN(user_id) AS min_user,
           MAX(user_id) AS max_user
    FROM {ledger}
    WHERE kind IN (%(charge)s, %(refund)s) AND reference LIKE 'generation:%%'
    GROUP BY 1
)
SELECT g.id, g.status, g.credits_charged, g.refunded, g.user_id,
       COALESCE(l.charges, 0), COALESCE(l.charged, 0), COALESCE(l.refunds, 0), COALESCE(l.refunded, 0),
       l.min_user, l.max_user, NULL
FROM {generation} g
LEFT JOIN ledger l ON l.generation_id = g.id
WHERE COALESCE(l.charges, 0) <> 1
   OR COALESCE(l.charged, 0) <> -g.credits_charged
   OR l.min_user <> g.user_id
   OR l.max_user <> g.user_id
   OR (g.status IN (%(failed)s, %(cancelled)s)
       AND (COALESCE(l.refunds, 0) <> 1 OR COALESCE(l.refunded, 0) <> g.credits_charged OR g.refunded = %(no)s))
   OR (g.status NOT IN (%(failed)s, %(cancelled)s) AND (COALESCE(l.refunds, 0) <> 0 OR g.refunded = %(yes)s))
UNION ALL
SELECT l.generation_id, NULL, NULL, NULL, NULL, l.charges, l.charged, l.refunds, l.refunded, l.min_user,
       l.max_user, l.reference
FROM ledger l
WHERE NOT EXISTS (SELECT 1 FROM {generation} g WHERE g.id = l.generation_id)
ORDER BY 1
"""


def generation_money_rule() -> Iterator[str]:
    parts = {"ledger": CreditLedgerEntry._meta.db_table, "generation": Generation._meta.db_table}
    params: dict[str, str | bool] = {
        "charge": CreditKind.GENERATION_CHARGE,
        "refund": CreditKind.GENERATION_REFUND,
        "failed": Generation.Status.FAILED,
        "cancelled": Generation.Status.CANCELLED,
        "yes": True,
        "no": False,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A report over every row: compiling it (JIT) costs more than it saves,
            # and grouping a million references in memory beats sorting them on disk.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(_PROBLEMS_SQL.format(**parts), params)
        rows = cursor.fetchall()
    for row in rows:
        yield _describe(*row)


def _describe(
    generation_id: int | None,
    status: str | None,
    price: int,
    refunded_flag: bool,
    user_id: int,
    charges: int,
    charged: int,
    refunds: int,
    refunded: int,
    min_user: int | None,
    max_user: int | None,
    reference: str | None,
) -> str:
    if status is None and generation_id is None:
        return f"malformed generation references in the ledger, such as {reference!r}"
    if status is None:
        return f"{reference} does not exist but has {charges} charge(s) and {refunds} refund(s)"
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
