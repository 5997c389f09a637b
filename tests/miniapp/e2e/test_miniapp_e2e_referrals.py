"""Referrals: the invite link shared through Telegram, invited friends and earnings, and
a withdrawal requested from the earnings, listed with its status."""

import pytest

from payments.models import Withdrawal
from payments.services import referral_link
from tests.factories import CreditPackFactory, PaidPaymentFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def referrer_with_earnings(settings, packs):
    settings.TELEGRAM_BOT_USERNAME = "nanogen_e2e_bot"
    settings.REFERRAL_PERCENT = 10
    settings.WITHDRAWAL_MIN_AMOUNT = 10
    referrer = UserFactory.create(telegram_id=7601, first_name="Inviter", language_code="en")
    big = CreditPackFactory.create(slug="e2e-big", title="Big", stars=1000, credits=1200, sort_order=3)
    for telegram_id in (7602, 7603):
        friend = UserFactory.create(telegram_id=telegram_id, first_name="Friend", language_code="en")
        assert referral_link(referrer=referrer, new_user=friend)
        PaidPaymentFactory.create(user=friend, pack=big)
    return referrer


def test_invite_link_is_shared_through_telegram(miniapp_factory, init_data, referrer_with_earnings):
    app = miniapp_factory(telegram="android")
    app.open(init_data(7601))
    page = app.view
    page.locator(".tab[data-screen='referrals']").click()
    link = page.get_by_label("Your invite link")
    assert link.input_value().startswith("https://t.me/nanogen_e2e_bot?start=ref_")
    assert page.locator(".stat-invited").inner_text() == "2"
    assert page.locator(".stat-earnings").inner_text() == "200 Stars"
    assert "10%" in page.locator(".screen-referrals .card").first.inner_text()

    page.locator(".share-invite").click()
    app.client.wait_for("c => c.links.length > 0")
    opened = [e["data"] for e in app.client.events("web_app_open_tg_link")]
    assert len(opened) == 1 and opened[0]["path_full"].startswith("/share/url?url=https%3A%2F%2Ft.me%2Fnanogen_e2e_bot")


def test_withdrawal_request_and_list(miniapp_factory, init_data, referrer_with_earnings, audit_passes):
    app = miniapp_factory()
    page = app.page
    app.open(init_data(7601))
    page.locator(".tab[data-screen='referrals']").click()
    page.locator(".open-withdrawals").click()
    page.get_by_text("No withdrawals yet.").wait_for()
    page.get_by_label("Amount").fill("150")
    page.get_by_label("Method").select_option("usdt_ton")
    page.get_by_label("Where to send").fill("UQ-e2e-wallet")
    page.get_by_role("button", name="Request withdrawal").click()
    page.get_by_text("Withdrawal requested.").wait_for()
    row = page.locator(".withdrawal-list li[data-status='pending']")
    assert "150 Stars" in row.inner_text() and "USDT on TON" in row.inner_text() and "Pending" in row.inner_text()
    withdrawal = Withdrawal.objects.get(user=referrer_with_earnings)
    assert (withdrawal.amount, withdrawal.method, withdrawal.destination) == (150, "usdt_ton", "UQ-e2e-wallet")
    # The form is drawn again with the earnings left.
    page.locator(".screen-withdrawals .hint", has_text="Available: 50 Stars").wait_for()

    # A second request while one is pending: the server's refusal is shown as it says.
    page.get_by_label("Amount").fill("20")
    page.get_by_label("Where to send").fill("UQ-e2e-wallet")
    with page.expect_response(lambda r: r.url.endswith("/api/withdrawals") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Request withdrawal").click()
    assert answer.value.status >= 400
    assert page.locator(".screen-withdrawals .message-error").first.inner_text() == answer.value.json()["message"]
    assert Withdrawal.objects.filter(user=referrer_with_earnings).count() == 1
