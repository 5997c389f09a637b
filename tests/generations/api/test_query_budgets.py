"""SQL budgets of the hot paths, for the whole HTTP request (authentication included).

The start is measured in a real transaction (transactional test), as in production:
the enqueue runs on commit and its insert into the queue counts too. Its budget is 8
captured queries IN ALL, the transaction's BEGIN and COMMIT included (Django 5.2
records them): authentication, BEGIN, the conditional UPDATE that debits and locks,
one SELECT of the model and the user's usage, the generation insert, the ledger
insert, COMMIT and the queue insert. A price other than the model's default costs one
more (the UPDATE that settles the debit); input images at most two more (the SELECT
that locks the uploads, and on their first use the UPDATE that marks them used).
"""

import pytest
from django_q.models import OrmQ

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import Generation
from tests.generations.api.helpers import IMAGE_PRICE, balance, quote, start, upload_id
from tests.generations.api.test_history import make_generations
from tests.generations.images import jpeg_bytes

START_BUDGET = 8
PRICED_START_BUDGET = START_BUDGET + 1
IMAGES_START_BUDGET = PRICED_START_BUDGET + 2


def statements(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, "budget-key"])
def test_a_start_takes_at_most_eight_queries_with_begin_and_commit(
    rich_owner, owner_client, image_model, django_assert_max_num_queries, audit_passes, key
):
    start(owner_client, prompt="warm up the connection")
    extra = {"idempotency_key": key} if key else {}
    with django_assert_max_num_queries(START_BUDGET) as captured:
        response = start(owner_client, **extra)
    assert response.status_code == 201, response.content
    sql = statements(captured)
    # A real transaction was measured, and its BEGIN and COMMIT are inside the budget.
    assert "BEGIN" in sql and "COMMIT" in sql, sql
    # The enqueue happened inside the measured request.
    assert OrmQ.objects.count() == 2
    # And the start did all it must: one generation, charged once through the ledger.
    assert response.json()["credits_charged"] == IMAGE_PRICE
    assert balance(rich_owner) == 10_000 - 2 * IMAGE_PRICE
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_start_at_another_price_costs_one_more_query(rich_owner, owner_client, animate_model,
                                                        django_assert_max_num_queries, audit_passes):
    start(owner_client, model="test-animate", prompt="warm up the connection")
    with django_assert_max_num_queries(PRICED_START_BUDGET):
        response = start(owner_client, model="test-animate", params={"duration": 10})
    assert response.status_code == 201, response.content
    assert response.json()["credits_charged"] == 60


@pytest.mark.django_db(transaction=True)
def test_a_start_with_images_costs_at_most_two_more_queries(rich_owner, owner_client, edit_model,
                                                             django_assert_max_num_queries, audit_passes):
    photos = [upload_id(owner_client, jpeg_bytes(size)) for size in ((10, 10), (11, 11))]
    start(owner_client, model="test-edit", prompt="warm up the connection")
    with django_assert_max_num_queries(IMAGES_START_BUDGET):
        first_use = start(owner_client, model="test-edit", images=photos)
    assert first_use.status_code == 201, first_use.content
    # Used again, the uploads need no marking: one query fewer.
    with django_assert_max_num_queries(IMAGES_START_BUDGET - 1):
        again = start(owner_client, model="test-edit", images=photos, prompt="again")
    assert again.status_code == 201, again.content


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_costs_no_more_than_a_start(rich_owner, owner_client, image_model, django_assert_max_num_queries,
                                                audit_passes):
    assert start(owner_client, idempotency_key="k").status_code == 201
    with django_assert_max_num_queries(START_BUDGET) as captured:
        assert start(owner_client, idempotency_key="k").status_code == 409
    # The debit taken on the way was rolled back.
    assert "ROLLBACK" in statements(captured)
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE


@pytest.mark.django_db
def test_a_history_page_costs_the_same_for_one_row_and_for_fifty(owner, stranger, owner_client, stranger_client,
                                                                  image_model, django_assert_num_queries):
    make_generations(stranger, image_model, 1)
    make_generations(owner, image_model, 50)
    stranger_client.get("/api/generations")
    owner_client.get("/api/generations")

    with django_assert_num_queries(2) as one_row:
        assert len(stranger_client.get("/api/generations").json()["results"]) == 1
    with django_assert_num_queries(2) as fifty_rows:
        assert len(owner_client.get("/api/generations", {"page_size": 50}).json()["results"]) == 50
    assert len(one_row.captured_queries) == len(fifty_rows.captured_queries)
    assert Generation.objects.count() == 51


@pytest.mark.django_db
def test_a_quote_is_two_queries_and_one_more_with_images(owner, owner_client, edit_model,
                                                           django_assert_num_queries):
    photo = upload_id(owner_client, jpeg_bytes())
    owner_client.get("/api/models")
    # Authentication, the model, (the uploads): nothing else, nothing written.
    with django_assert_num_queries(2):
        assert quote(owner_client, model="test-edit").status_code == 200
    with django_assert_num_queries(3):
        assert quote(owner_client, model="test-edit", images=[photo]).status_code == 200


@pytest.mark.django_db
def test_detail_and_catalog_are_two_queries(owner, owner_client, image_model, django_assert_num_queries):
    generation = make_generations(owner, image_model, 1)[0]
    owner_client.get("/api/models")
    with django_assert_num_queries(2):
        assert owner_client.get(f"/api/generations/{generation.pk}").status_code == 200
    with django_assert_num_queries(2):
        assert owner_client.get("/api/models").status_code == 200
