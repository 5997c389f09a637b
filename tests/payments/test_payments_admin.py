"""The money admin: every page renders, money fields are read-only, nothing is
added, edited or deleted except through the actions."""

import pytest
from django.db.models import Model

from payments.models import CreditPack, Payment, PaymentIssue, ReferralAccount, ReferralEarningsEntry, Withdrawal
from payments.services import withdrawal_request
from tests.payments.helpers import earnings_give

pytestmark = pytest.mark.django_db

MONEY_PAGES = ["payment", "paymentissue", "withdrawal", "referralaccount", "referralearningsentry"]


@pytest.fixture
def some_money(owner, referrer, referred_owner, pack, make_paid, make_pending):
    make_paid(referred_owner, pack)
    make_pending(owner, pack)
    earnings_give(referrer, 150)
    withdrawal_request(user=referrer, amount=100, method="card", destination="4111")
    PaymentIssue.objects.create(reason="wrong_amount", telegram_user_id=1, currency="XTR", total_amount=5,
                                telegram_payment_charge_id="c-1")


@pytest.mark.parametrize("model", [*MONEY_PAGES, "creditpack"])
def test_every_list_and_detail_page_renders(staff_client, some_money, model, audit_passes):
    assert staff_client.get(f"/admin/payments/{model}/").status_code == 200
    cls: type[Model] = {"payment": Payment, "paymentissue": PaymentIssue, "withdrawal": Withdrawal,
                         "referralaccount": ReferralAccount, "referralearningsentry": ReferralEarningsEntry,
                         "creditpack": CreditPack}[model]
    obj = cls._default_manager.first()
    assert staff_client.get(f"/admin/payments/{model}/{obj.pk}/change/").status_code == 200


@pytest.mark.parametrize("model", MONEY_PAGES)
def test_money_cannot_be_added_edited_or_deleted(staff_client, some_money, model, audit_passes):
    cls: type[Model] = {"payment": Payment, "paymentissue": PaymentIssue, "withdrawal": Withdrawal,
           "referralaccount": ReferralAccount, "referralearningsentry": ReferralEarningsEntry}[model]
    obj = cls._default_manager.first()
    assert staff_client.get(f"/admin/payments/{model}/add/").status_code == 403
    page = staff_client.get(f"/admin/payments/{model}/{obj.pk}/change/")
    assert b'name="_save"' not in page.content
    assert staff_client.post(f"/admin/payments/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert cls._default_manager.filter(pk=obj.pk).exists()


def test_posting_an_earnings_balance_changes_nothing(staff_client, some_money, referrer, audit_passes):
    account = ReferralAccount.objects.get(user=referrer)
    before = account.earnings
    staff_client.post(f"/admin/payments/referralaccount/{account.pk}/change/", {"earnings": 99999})
    account.refresh_from_db()
    assert account.earnings == before


def test_search_payments_by_telegram_id_and_charge(staff_client, some_money, referred_owner, owner, audit_passes):
    paid = Payment.objects.get(user=referred_owner, status="paid")
    by_charge = staff_client.get("/admin/payments/payment/", {"q": paid.telegram_payment_charge_id})
    assert by_charge.context["cl"].result_count == 1
    filtered = staff_client.get("/admin/payments/payment/", {"status__exact": "pending"})
    assert [p.pk for p in filtered.context["cl"].result_list] == [Payment.objects.get(status="pending").pk]


def test_packs_are_edited_but_never_deleted(staff_client, pack):
    response = staff_client.post(
        f"/admin/payments/creditpack/{pack.pk}/change/",
        {"slug": "test-pack", "title": "Test", "title_ru": "", "stars": 200, "credits": 250, "is_active": "on",
         "sort_order": 1},
    )
    assert response.status_code == 302
    pack.refresh_from_db()
    assert (pack.stars, pack.credits) == (200, 250)
    assert staff_client.post(f"/admin/payments/creditpack/{pack.pk}/delete/", {"post": "yes"}).status_code == 403
