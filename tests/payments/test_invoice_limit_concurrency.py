"""The invoice limit (30 an hour per user) holds exactly under concurrent requests."""

import pytest

from payments.models import Payment
from payments.services.invoices import INVOICES_PER_HOUR
from tests.helpers import api_client_for, run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_45_concurrent_invoice_requests_make_exactly_the_limit(owner, pack, fake_telegram, audit_passes):
    def request(i: int) -> int:
        client = api_client_for(owner.telegram_id, first_name="Owner", username="owner")
        return client.post("/api/payments/invoice", {"pack": "test-pack"}, format="json").status_code

    statuses = run_in_threads(45, request)

    assert statuses.count(201) == INVOICES_PER_HOUR == 30, statuses
    assert statuses.count(429) == 15, statuses
    assert Payment.objects.filter(user=owner).count() == 30
    assert len(fake_telegram.calls_to("createInvoiceLink")) == 30
