"""Prices that follow the parameters, through HTTP: the start charges the model's price
rule, the quote returns exactly that figure and writes nothing, /api/models shows the
default price, and a price change never touches a started generation."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import AIModel, Generation, Upload
from generations.services import generation_cancel_if_active
from tests.generations.api.helpers import (
    ANIMATE_PRICE,
    EDIT_PRICE,
    assert_error,
    balance,
    owner_client_new,
    quote,
    start,
    upload_id,
)
from tests.generations.images import jpeg_bytes
from tests.helpers import credits_give, run_in_threads

pytestmark = pytest.mark.django_db

BODIES: list[tuple[str, dict[str, Any], int]] = [
    ("animate default", {"model": "test-animate"}, ANIMATE_PRICE),
    ("animate 10 s", {"model": "test-animate", "params": {"duration": 10}}, 60),
    ("animate 10 s 1080p", {"model": "test-animate", "params": {"duration": 10, "resolution": "1080p"}}, 150),
    ("animate 5 s 1080p", {"model": "test-animate", "params": {"resolution": "1080p"}}, 75),
    ("edit, one result", {"model": "test-edit"}, EDIT_PRICE),
    ("edit, four results", {"model": "test-edit", "params": {"num_images": 4}}, 4 * EDIT_PRICE),
    ("flat price", {"model": "test-image", "params": {"aspect_ratio": "16:9"}}, 10),
]


@pytest.mark.parametrize(("case", "body", "price"), BODIES, ids=[b[0] for b in BODIES])
def test_the_start_charges_the_rule_and_the_quote_says_it_first(
    rich_owner, owner_client, image_model, edit_model, animate_model, case, body, price, audit_passes
):
    quoted = quote(owner_client, **body)
    assert quoted.status_code == 200, quoted.content
    assert quoted.json() == {"price": price, "balance": 10_000}

    started = start(owner_client, **body)
    assert started.status_code == 201, started.content
    assert started.json()["credits_charged"] == price
    assert balance(rich_owner) == 10_000 - price
    charge = CreditLedgerEntry.objects.get(kind=CreditKind.GENERATION_CHARGE)
    assert charge.amount == -price
    assert quote(owner_client, **body).json() == {"price": price, "balance": 10_000 - price}


def test_input_images_are_priced_where_the_rule_bills_them(rich_owner, owner_client, edit_model, audit_passes):
    photos = [upload_id(owner_client, jpeg_bytes(size)) for size in ((10, 10), (12, 12), (14, 14))]
    body: dict[str, Any] = {"model": "test-edit", "images": photos, "params": {"num_images": 2}}
    expected = 2 * EDIT_PRICE + 3 * 2
    assert quote(owner_client, **body).json()["price"] == expected
    assert start(owner_client, **body).json()["credits_charged"] == expected


def test_a_quote_writes_nothing(rich_owner, owner_client, edit_model):
    photo = upload_id(owner_client, jpeg_bytes())
    with CaptureQueriesContext(connection) as captured:
        response = quote(owner_client, model="test-edit", images=[photo], params={"num_images": 3},
                         idempotency_key="ignored-here")
    assert response.status_code == 200, response.content
    writes = [q["sql"] for q in captured.captured_queries
              if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"} or "FOR UPDATE" in q["sql"]]
    assert writes == []
    assert not Generation.objects.exists() and balance(rich_owner) == 10_000
    assert Upload.objects.get().used_at is None


BAD = [
    ("unknown model", {"model": "nope"}, 400, "MODEL_UNAVAILABLE", None),
    ("bad parameter", {"model": "test-animate", "params": {"duration": 7}}, 400, "VALIDATION_ERROR", "params"),
    ("unknown parameter", {"model": "test-animate", "params": {"fps": 60}}, 400, "VALIDATION_ERROR", "params"),
    ("blank prompt", {"model": "test-animate", "prompt": " "}, 400, "VALIDATION_ERROR", "prompt"),
    ("images on a text model", {"model": "test-image", "images": ["6f1c2b8e-2a7d-4c1e-9a55-0d8f0c3c1b2a"]}, 400,
     "VALIDATION_ERROR", "images"),
    ("unknown image", {"model": "test-edit", "images": ["6f1c2b8e-2a7d-4c1e-9a55-0d8f0c3c1b2a"]}, 400,
     "VALIDATION_ERROR", "images"),
    ("too many results", {"model": "test-edit", "params": {"num_images": 5}}, 400, "VALIDATION_ERROR", "params"),
    ("not a string model", {"model": 5}, 400, "VALIDATION_ERROR", "model"),
    ("over-long prompt", {"model": "test-edit", "prompt": "x" * 2001}, 400, "VALIDATION_ERROR", "prompt"),
]


@pytest.mark.parametrize(("case", "body", "status", "code", "field"), BAD, ids=[b[0] for b in BAD])
def test_a_quote_refuses_what_a_start_refuses(
    rich_owner, owner_client, image_model, edit_model, animate_model, case, body, status, code, field
):
    body = {"prompt": "a cat", **body}
    quoted = assert_error(owner_client.post("/api/generations/quote", body, format="json"), status, code)
    started = assert_error(owner_client.post("/api/generations", body, format="json"), status, code)
    assert quoted.get("details", {}).keys() == started.get("details", {}).keys()
    if field:
        assert field in quoted["details"]
    assert not Generation.objects.exists()


def test_a_quote_tells_the_price_even_when_credits_are_short(owner, owner_client, animate_model, audit_passes):
    credits_give(owner, 5)
    assert quote(owner_client, model="test-animate", params={"duration": 10}).json() == {"price": 60, "balance": 5}
    assert_error(start(owner_client, model="test-animate", params={"duration": 10}), 402, "INSUFFICIENT_CREDITS")


def test_quote_needs_auth(anonymous_client, animate_model):
    assert_error(quote(anonymous_client, model="test-animate"), 401, "AUTH_REQUIRED")


def test_the_catalog_shows_the_default_price_and_the_inputs(owner_client, edit_model, animate_model):
    models = {m["slug"]: m for m in owner_client.get("/api/models").json()}
    assert models["test-animate"]["price"] == ANIMATE_PRICE
    assert models["test-animate"]["inputs"] == {"images": {"min": 0, "max": 1}, "prompt_optional_with_images": True}
    assert models["test-edit"]["price"] == EDIT_PRICE
    assert models["test-edit"]["inputs"]["images"] == {"min": 0, "max": 3}


def test_a_price_above_the_balance_is_refused_and_nothing_is_debited(owner, owner_client, animate_model,
                                                                      audit_passes):
    # Enough for the default (30), not for 10 s at 1080p (150): the debit taken on the
    # way is settled up, fails, and rolls back.
    credits_give(owner, 100)
    body = assert_error(
        start(owner_client, model="test-animate", params={"duration": 10, "resolution": "1080p"}), 402,
        "INSUFFICIENT_CREDITS",
    )
    assert body["details"] == {"balance": 100, "price": 150}
    assert balance(owner) == 100 and not Generation.objects.exists()


def test_a_price_below_the_default_starts_with_less_than_the_default(owner, owner_client, animate_model,
                                                                    audit_passes):
    # The default is now 5 s at 1080p (75 credits); 40 credits do not cover it, so the
    # debit of the default takes nothing and the start takes the lock first, then
    # charges the 30 that 5 s at 480p costs.
    schema = {**animate_model.params_schema, "resolution": {"type": "choice", "choices": ["480p", "1080p"],
                                                             "default": "1080p"}}
    AIModel.objects.filter(pk=animate_model.pk).update(params_schema=schema, price=75)
    credits_give(owner, 40)
    assert_error(start(owner_client, model="test-animate"), 402, "INSUFFICIENT_CREDITS")
    response = start(owner_client, model="test-animate", params={"resolution": "480p"})
    assert response.status_code == 201, response.content
    assert response.json()["credits_charged"] == 30
    assert balance(owner) == 10


def test_a_price_change_never_touches_a_started_generation(rich_owner, owner_client, animate_model, audit_passes):
    created = start(owner_client, model="test-animate", params={"duration": 10}).json()
    assert created["credits_charged"] == 60
    AIModel.objects.filter(pk=animate_model.pk).update(price_rule={"base": 50, "factors": {"duration": "value"}},
                                                       price=250)
    assert Generation.objects.get().credits_charged == 60
    assert generation_cancel_if_active(generation_id=created["id"])
    assert balance(rich_owner) == 10_000
    refund = CreditLedgerEntry.objects.get(kind=CreditKind.GENERATION_REFUND)
    assert refund.amount == 60
    assert quote(owner_client, model="test-animate", params={"duration": 10}).json()["price"] == 500


def test_the_timeout_follows_the_parameters(rich_owner, owner_client, animate_model, image_model, settings,
                                           audit_passes):
    five = start(owner_client, model="test-animate").json()
    ten = start(owner_client, model="test-animate", params={"duration": 10}).json()
    flat = start(owner_client, model="test-image").json()
    timeouts = {
        g.pk: (g.timeout_at - g.created_at).total_seconds() for g in Generation.objects.all()
    }
    assert abs(timeouts[five["id"]] - 600) < 1
    assert abs(timeouts[ten["id"]] - 1200) < 1
    assert abs(timeouts[flat["id"]] - settings.GENERATION_TIMEOUT_SECONDS) < 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_at_a_rule_price_never_overdraw(owner, animate_model, audit_passes, settings):
    settings.GENERATION_MAX_ACTIVE = 100
    settings.GENERATION_RATE_LIMIT_PER_MINUTE = 100
    credits_give(owner, 3 * 150 + 100)  # three 10 s 1080p videos, and change

    def one(_: int) -> int:
        return start(owner_client_new(owner), model="test-animate",
                     params={"duration": 10, "resolution": "1080p"}).status_code

    statuses = run_in_threads(8, one)
    assert sorted(statuses) == [201] * 3 + [402] * 5, statuses
    assert balance(owner) == 100
    assert Generation.objects.count() == 3
