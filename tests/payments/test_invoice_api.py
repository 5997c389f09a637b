"""POST /api/payments/invoice against the local fake Bot API server."""

import pytest

from payments.models import Payment
from payments.services import invoice_payload_verify
from tests.factories import CreditPackFactory
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def test_invoice_creates_a_pending_payment_and_a_stars_invoice_link(owner_client, owner, pack, fake_telegram):
    response = owner_client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    payment = Payment.objects.get(pk=body["payment_id"])
    assert body["invoice_link"].startswith("https://t.me/$")
    assert (payment.user, payment.pack, payment.stars, payment.credits) == (owner, pack, 100, 120)
    assert payment.status == Payment.Status.PENDING and payment.invoice_link == body["invoice_link"]

    call = fake_telegram.last("createInvoiceLink")
    assert call["currency"] == "XTR"
    assert call["provider_token"] == ""
    assert call["prices"] == [{"label": "Test: 120 credits", "amount": 100}]
    assert call["title"] == "Test: 120 credits"
    assert "120 credits" in call["description"]
    assert call["payload"] == payment.invoice_payload
    assert len(call["payload"].encode()) <= 128
    assert invoice_payload_verify(payment, call["payload"])


def test_the_invoice_is_in_the_users_language(owner, pack, fake_telegram):
    client = api_client_for(owner.telegram_id, language_code="ru")
    assert client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json").status_code == 201
    call = fake_telegram.last("createInvoiceLink")
    assert call["title"] == "Тест: 120 кредитов"
    assert "120 кредитов" in call["description"]


def test_each_payment_gets_its_own_payload(owner_client, pack, fake_telegram):
    for _ in range(2):
        owner_client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json")
    payloads = [call["payload"] for call in fake_telegram.calls_to("createInvoiceLink")]
    assert len(set(payloads)) == 2


def test_a_bot_api_failure_is_a_clear_error_and_the_payment_is_kept_as_failed(owner_client, pack, fake_telegram):
    fake_telegram.fail("createInvoiceLink", error_code=429, description="Too Many Requests: retry after 5",
                       retry_after=5)
    response = owner_client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "PAYMENT_PROVIDER_UNAVAILABLE"
    assert response["Retry-After"] == "5"
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.FAILED
    assert "429" in payment.failure_reason and payment.invoice_link == ""


def test_an_unreachable_bot_api_is_the_same_clear_error(owner_client, pack, settings):
    settings.TELEGRAM_API_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    response = owner_client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json")
    assert response.status_code == 503 and response.json()["code"] == "PAYMENT_PROVIDER_UNAVAILABLE"
    assert Payment.objects.get().status == Payment.Status.FAILED


@pytest.mark.parametrize("slug", ["no-such-pack", "retired"])
def test_unknown_or_retired_pack_is_refused(owner_client, fake_telegram, slug):
    CreditPackFactory.create(slug="retired", title="Retired", stars=10, credits=10, is_active=False)
    response = owner_client.post("/api/payments/invoice", {"pack": slug}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "PACK_UNAVAILABLE"
    assert not Payment.objects.exists() and not fake_telegram.calls


@pytest.mark.parametrize("body", [{}, {"pack": ""}, {"pack": None}, {"pack": "x" * 65}])
def test_a_missing_pack_is_a_validation_error(owner_client, fake_telegram, body):
    response = owner_client.post("/api/payments/invoice", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and "pack" in response.json()["details"]


def test_invoices_are_rate_limited(owner_client, owner, pack, fake_telegram, monkeypatch):
    monkeypatch.setattr("payments.services.invoices.INVOICES_PER_HOUR", 2)
    codes = [owner_client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json").status_code
             for _ in range(3)]
    assert codes == [201, 201, 429]
    assert len(fake_telegram.calls_to("createInvoiceLink")) == 2


def test_invoice_needs_authentication(anonymous_client, pack):
    assert anonymous_client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json").status_code == 401


def test_a_banned_user_gets_no_invoice(owner_client, owner, pack, fake_telegram):
    owner.is_banned = True
    owner.save()
    response = owner_client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "USER_BANNED"
    assert not fake_telegram.calls
