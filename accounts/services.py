"""Writes for accounts. This module is the only code that changes `User.credits`.

Every change of credits is one `CreditLedgerEntry` written in the same transaction
as the balance update, under the user's row lock, so the balance always equals
the ledger sum and can never go below zero (the database CHECK is the backstop).
Either lock first (`user_lock`, then `credits_apply`), or debit and lock in one
conditional statement (`credits_debit_if_enough`, then `credits_ledger_record`).
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.db.models.expressions import BaseExpression, RawSQL
from django.db.transaction import TransactionManagementError

from accounts.errors import InsufficientCredits
from accounts.models import CreditKind, CreditLedgerEntry, User
from accounts.telegram_init_data import TelegramUser
from core.statements import ModelInsert, Statement

_LEDGER_ROW = ModelInsert(CreditLedgerEntry)

# The most credits one staff grant (or removal) may move. Far above any real grant,
# far below the 64-bit balance column: a typo of 2^63 is a form error, not a 500.
CREDITS_CHANGE_MAX = 1_000_000_000


def user_lock(*, user_id: int) -> User:
    """The user row, locked until the surrounding transaction ends.

    FOR NO KEY UPDATE (the lock PostgreSQL's own UPDATE of non-key columns takes):
    it serialises every writer of the user's credits and limits just as well, but
    does not block other transactions' rows that merely refer to the user (their
    foreign-key checks take KEY SHARE). Plain FOR UPDATE would turn such a writer
    racing a generation start into a deadlock instead of a unique-constraint loss.
    """
    return User.objects.select_for_update(no_key=True).get(pk=user_id)


def credits_apply(
    *,
    user: User,
    amount: int,
    kind: CreditKind,
    reference: str = "",
    note: str = "",
    created_by: User | None = None,
) -> CreditLedgerEntry:
    """Add (or with a negative amount, remove) credits of a user whose row the caller
    has locked with `user_lock` in the current transaction.

    Raises InsufficientCredits, changing nothing, when the balance would go below 0.
    """
    if amount == 0:
        raise ValueError("a ledger entry must change the balance")
    new_balance = user.credits + amount
    if new_balance < 0:
        raise InsufficientCredits(details={"balance": user.credits, "price": -amount})
    # F() keeps the write relative even though the row lock already serialises us:
    # the CHECK constraint then guards against any caller that forgot the lock.
    User.objects.filter(pk=user.pk).update(credits=F("credits") + amount)
    user.credits = new_balance
    entry = credits_ledger_record(
        user_id=user.pk,
        amount=amount,
        kind=kind,
        balance_after=new_balance,
        reference=reference,
        note=note,
        created_by=created_by,
    )
    entry.user = user
    return entry


@dataclass(frozen=True)
class Debit:
    """What `credits_debit_if_enough` took, and the balance it left."""

    amount: int
    balance_after: int


def credits_debit_if_enough(*, user_id: int, amount: int | BaseExpression) -> Debit | None:
    """Take `amount` credits from the user when the balance covers it, in ONE statement
    that also locks the user's row until the caller's transaction ends.

    `amount` is an int or an expression evaluated once inside that statement (e.g. a
    `Subquery` of a catalog price; a `RawSQL` of fixed text costs no compilation, and its
    statement is built once and prepared: `core.statements`), so no value can change between the check and the
    debit, and the amount actually taken comes back with the new balance. Returns None,
    changing and locking nothing, when the balance is short, the user does not exist or
    the amount is not a positive number (a subquery that found no row gives NULL).

    Run it in the caller's transaction and record the change there with
    `credits_ledger_record(amount=-debit.amount, balance_after=debit.balance_after, ...)`:
    the balance must never be committed without its ledger row.

    The UPDATE takes the same row lock as `user_lock` (FOR NO KEY UPDATE), and under
    READ COMMITTED it re-checks `credits >= amount` on the newest row version after any
    wait, so concurrent debits serialise and the balance never goes below 0.
    """
    alias = router.db_for_write(User)
    connection = connections[alias]
    if not connection.in_atomic_block:
        raise TransactionManagementError("credits_debit_if_enough must run in the caller's transaction")
    if isinstance(amount, int):
        if amount <= 0:
            raise ValueError("a debit takes a positive amount")
        amount_sql, amount_params, fixed = "%s", [amount], True
    elif isinstance(amount, RawSQL):
        # Text fixed by the caller (a catalog price by slug): the statement is built once.
        amount_sql, amount_params, fixed = amount.sql, list(amount.params), True
    else:
        query = User.objects.all().query
        amount_sql, amount_params = query.get_compiler(using=alias).compile(
            amount.resolve_expression(query, allow_joins=False)
        )
        amount_params, fixed = list(amount_params), False
    if connection.vendor == "postgresql":
        rows = _debit_statement(amount_sql, cache=fixed).rows_on(connection, [*amount_params, user_id])
        row = rows[0] if rows else None
    else:
        row = _debit_sqlite(connection, amount_sql, amount_params, user_id)
    if row is None:
        return None
    return Debit(amount=int(row[0]), balance_after=int(row[1]))


_DEBIT_STATEMENTS: dict[str, Statement] = {}


def _debit_statement(amount_sql: str, *, cache: bool) -> Statement:
    """The debit as one statement (PostgreSQL), built once per amount's SQL text.

    Raw SQL for RETURNING, which the ORM's update() lacks: the caller needs the amount
    the statement itself evaluated (a price read in the same snapshot as the debit) and
    the balance it left. The CTE evaluates the amount exactly once. Only quoted names
    from the model's meta and SQL compiled by Django or fixed by the caller go into the
    text; every value is a parameter."""
    statement = _DEBIT_STATEMENTS.get(amount_sql)
    if statement is None:
        def build(connection: Any) -> str:
            quote = connection.ops.quote_name
            table = quote(User._meta.db_table)
            pk = quote(User._meta.pk.column)
            credits = quote(User._meta.get_field("credits").column)
            return (
                f"WITH debit AS (SELECT ({amount_sql}) AS amount) "  # noqa: S608
                f"UPDATE {table} SET {credits} = {table}.{credits} - debit.amount FROM debit "
                f"WHERE {table}.{pk} = %s AND debit.amount > 0 AND {table}.{credits} >= debit.amount "
                f"RETURNING debit.amount, {table}.{credits}"
            )

        statement = Statement(build)
        if cache:  # texts of ints and caller-fixed SQL; compiled expressions vary
            _DEBIT_STATEMENTS[amount_sql] = statement
    return statement


def _debit_sqlite(connection: Any, amount_sql: str, amount_params: list[Any], user_id: int) -> tuple[Any, Any] | None:
    """SQLite (local runs): RETURNING may name only the target table. Its transactions
    take the database's write lock at BEGIN (IMMEDIATE), so nothing can change the
    amount between this read and the debit."""
    quote = connection.ops.quote_name
    table = quote(User._meta.db_table)
    pk = quote(User._meta.pk.column)
    credits = quote(User._meta.get_field("credits").column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({amount_sql})", amount_params)
        taken = cursor.fetchone()[0]
        if taken is None or int(taken) <= 0:
            return None
        cursor.execute(
            f"UPDATE {table} SET {credits} = {credits} - %s "  # noqa: S608
            f"WHERE {pk} = %s AND {credits} >= %s RETURNING {credits}",
            [int(taken), user_id, int(taken)],
        )
        balance = cursor.fetchone()
        return None if balance is None else (taken, balance[0])


def credits_debit_settle(*, user_id: int, debit: Debit, amount: int) -> Debit | None:
    """Turn a debit this transaction took with `credits_debit_if_enough` into one of
    `amount` (the exact price, once the caller could compute it): one conditional
    UPDATE of the difference, either way. None, changing nothing, when the balance does
    not cover a larger amount.

    The row is still locked by the debit, so the balance it left is the one to adjust;
    record the ledger row of the settled debit (one row, `-amount`) afterwards.
    """
    if amount <= 0:
        raise ValueError("a debit takes a positive amount")
    difference = amount - debit.amount
    if difference == 0:
        return debit
    # `credits >= difference` holds trivially when the difference is negative (money back).
    settled = User.objects.filter(pk=user_id, credits__gte=difference).update(credits=F("credits") - difference)
    if not settled:
        return None
    return Debit(amount=amount, balance_after=debit.balance_after - difference)


def credits_ledger_record(
    *,
    user_id: int,
    amount: int,
    kind: CreditKind,
    balance_after: int,
    reference: str = "",
    note: str = "",
    created_by: User | None = None,
) -> CreditLedgerEntry:
    """The ledger row of a change of credits ALREADY APPLIED to the user's balance in
    the current transaction (by `credits_debit_if_enough`, or by `credits_apply`).

    It must run in that same transaction, with the user's row still locked by it, so
    the balance and the ledger are committed together or not at all.
    """
    alias = router.db_for_write(CreditLedgerEntry)
    if not connections[alias].in_atomic_block:
        raise TransactionManagementError("credits_ledger_record must run in the change's transaction")
    if amount == 0:
        raise ValueError("a ledger entry must change the balance")
    entry = CreditLedgerEntry(
        user_id=user_id,
        amount=amount,
        kind=kind,
        balance_after=balance_after,
        reference=reference,
        note=note[:255],
        created_by=created_by,
    )
    _LEDGER_ROW.save(entry, using=alias)
    return entry


def credits_change(
    *,
    user_id: int,
    amount: int,
    kind: CreditKind,
    reference: str = "",
    note: str = "",
    created_by: User | None = None,
    clamp_at_zero: bool = False,
) -> CreditLedgerEntry:
    """Change a user's credits in a transaction of its own (or the caller's).

    With `clamp_at_zero`, a removal larger than the balance removes the whole
    balance instead of failing; it still fails when the balance is already 0.
    """
    with transaction.atomic():
        user = user_lock(user_id=user_id)
        if clamp_at_zero and amount < 0 and user.credits > 0:
            amount = max(amount, -user.credits)
        return credits_apply(
            user=user, amount=amount, kind=kind, reference=reference, note=note, created_by=created_by
        )


def user_from_telegram(*, telegram_user: TelegramUser) -> User:
    """The user behind a Telegram account, created on first sight and kept up to date.

    Costs one query when nothing changed. Creation grants SIGNUP_BONUS_CREDITS through
    the ledger in the same transaction, so the bonus is given exactly once even when
    two first requests race (the unique telegram_id decides who creates).
    """
    profile = {
        "username": telegram_user.username,
        "first_name": telegram_user.first_name,
        "last_name": telegram_user.last_name,
        "language_code": telegram_user.language_code,
        "is_premium": telegram_user.is_premium,
    }
    user = _user_by_telegram_id(telegram_user.id)
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create(
                    telegram_id=telegram_user.id, password=make_password(None), **profile
                )
                if settings.SIGNUP_BONUS_CREDITS > 0:
                    credits_apply(
                        user=user,
                        amount=settings.SIGNUP_BONUS_CREDITS,
                        kind=CreditKind.SIGNUP_BONUS,
                        reference=f"user:{user.pk}",
                    )
                return user
        except IntegrityError:
            user = User.objects.get(telegram_id=telegram_user.id)

    changed = [field for field, value in profile.items() if getattr(user, field) != value]
    if changed:
        for field in changed:
            setattr(user, field, profile[field])
        User.objects.filter(pk=user.pk).update(**{field: profile[field] for field in changed})
    return user


def _user_by_telegram_id(telegram_id: int) -> User | None:
    """`User.objects.filter(telegram_id=...).first()`, as a statement built once: every
    authenticated request runs it."""
    alias = router.db_for_read(User)
    rows = _USER_BY_TELEGRAM_ID.rows([telegram_id], using=alias)
    if not rows:
        return None
    return User.from_db(alias, [field.attname for field in User._meta.concrete_fields], rows[0])


def _user_by_telegram_id_sql(connection: Any) -> str:
    quote = connection.ops.quote_name
    meta = User._meta
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    return (
        f"SELECT {columns} FROM {quote(meta.db_table)} "  # noqa: S608 - quoted names from the model's meta
        f"WHERE {quote(meta.get_field('telegram_id').column)} = %s ORDER BY {quote(meta.pk.column)} LIMIT 1"
    )


_USER_BY_TELEGRAM_ID = Statement(_user_by_telegram_id_sql, lambda: User._meta.concrete_fields)


def user_set_banned(*, user: User, banned: bool) -> None:
    User.objects.filter(pk=user.pk).update(is_banned=banned)
    user.is_banned = banned


def user_set_reachable(*, user_id: int, reachable: bool) -> bool:
    """Record whether the bot can write to the user (False once they blocked it,
    True again when they talk to it). True when this changed the row."""
    return bool(User.objects.filter(pk=user_id).exclude(is_reachable=reachable).update(is_reachable=reachable))
