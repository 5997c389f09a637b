"""core.statements: hot statements built once, prepared on PostgreSQL, logged and
counted like the ORM's, writing and reading exactly what the ORM would."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry, User
from core.statements import ModelInsert, Statement
from generations.models import AIModel, Generation
from tests.factories import AIModelFactory, GenerationFactory

USER_BY_ID = Statement(
    lambda db: f"SELECT {db.ops.quote_name('credits')}, {db.ops.quote_name('created_at')} "  # noqa: S608
    f"FROM {db.ops.quote_name(User._meta.db_table)} WHERE {db.ops.quote_name('id')} = %s",
    lambda: [User._meta.get_field("credits"), User._meta.get_field("created_at")],
)


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_reads_as_the_orm_does_and_is_prepared_once(owner):
    assert USER_BY_ID.rows([owner.pk]) == [(owner.credits, User.objects.get(pk=owner.pk).created_at)]
    USER_BY_ID.rows([owner.pk])
    texts = [text for text in prepared_statements() if "WHERE \"id\" = $1" in text and "credits" in text]
    assert len(texts) == 1, prepared_statements()


@pytest.mark.django_db
def test_statements_are_logged_with_their_values_and_counted(owner):
    with CaptureQueriesContext(connection) as captured:
        USER_BY_ID.rows([owner.pk])
    assert len(captured.captured_queries) == 1
    assert f'WHERE "id" = {owner.pk}' in captured.captured_queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_survives_a_new_connection(owner):
    USER_BY_ID.rows([owner.pk])
    connection.close()  # CONN_MAX_AGE ran out, or a health check failed
    assert USER_BY_ID.rows([owner.pk])[0][0] == owner.credits
    with transaction.atomic():
        pass
    assert USER_BY_ID.rows([owner.pk])[0][0] == owner.credits


class Undo(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_survives_a_schema_change(owner):
    USER_BY_ID.rows([owner.pk])
    with pytest.raises(Undo), transaction.atomic():  # PostgreSQL's DDL is transactional: undone below
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE accounts_user ADD COLUMN statements_test integer")
            cursor.execute("CREATE INDEX statements_test_index ON accounts_user (statements_test)")
        # PostgreSQL re-plans the prepared statement; its result columns did not change.
        assert USER_BY_ID.rows([owner.pk])[0][0] == owner.credits
        assert any("credits" in text for text in prepared_statements())
        raise Undo
    assert USER_BY_ID.rows([owner.pk])[0][0] == owner.credits


@pytest.mark.django_db
def test_a_rollback_costs_nothing_but_a_new_prepare(owner):
    USER_BY_ID.rows([owner.pk])
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        USER_BY_ID.rows([owner.pk])
        raise ZeroDivisionError
    assert USER_BY_ID.rows([owner.pk])[0][0] == owner.credits


@pytest.mark.django_db
def test_without_prepared_statements_the_same_statement_runs_unprepared(owner, settings):
    options = connection.settings_dict["OPTIONS"]
    saved = options.pop("prepare_threshold", None)
    try:
        cursors = []

        def cursor_seen(execute, sql, params, many, context):
            cursors.append(type(context["cursor"].cursor).__name__)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(cursor_seen):
            assert USER_BY_ID.rows([owner.pk])[0][0] == owner.credits
        assert cursors and "_PreparedCursor" not in cursors
    finally:
        if saved is not None:
            options["prepare_threshold"] = saved


@pytest.fixture
def image_model(db: None) -> AIModel:
    return AIModelFactory.create(slug="statements-image", price=4)


@pytest.mark.django_db
def test_model_insert_writes_the_row_save_would(owner, image_model):
    now = timezone.now()
    fields = {"user": owner, "model": image_model, "kind": image_model.kind, "prompt": "same", "params": {"a": [1]},
              "credits_charged": 3, "idempotency_key": None, "payload_hash": "h", "timeout_at": now + timedelta(1),
              "images": [{"upload": "u", "name": "n", "content_type": "image/png"}]}
    by_orm = Generation.objects.create(**fields)
    by_statement = Generation(**fields)
    ModelInsert(Generation).save(by_statement)
    assert by_statement.pk and not by_statement._state.adding

    def stored(pk: int) -> dict:
        row = model_to_dict(Generation.objects.get(pk=pk))
        row.pop("id")
        return row

    assert stored(by_statement.pk) == stored(by_orm.pk)
    # created_at is set on save (auto_now_add), on the instance too, as save() does.
    assert Generation.objects.get(pk=by_statement.pk).created_at == by_statement.created_at


@pytest.mark.django_db
def test_model_insert_sets_what_save_sets_on_add(owner):
    entry = CreditLedgerEntry(user=owner, amount=5, kind=CreditKind.GRANT, balance_after=5)
    before = timezone.now()
    ModelInsert(CreditLedgerEntry).save(entry)
    stored = CreditLedgerEntry.objects.get(pk=entry.pk)
    assert stored.created_at >= before and stored.created_at == entry.created_at
    assert (stored.amount, stored.kind, stored.reference, stored.created_by_id) == (5, CreditKind.GRANT, "", None)


@pytest.mark.django_db
def test_generation_factory_still_works_with_the_statements(owner, image_model):
    assert GenerationFactory.create(user=owner, model=image_model).pk
