"""POST/GET /api/withdrawals: the amount is held at once, one pending at a time."""

import pytest

from payments.models import EarningsKind, ReferralAccount, ReferralEarningsEntry, Withdrawal
from tests.helpers import api_client_for, run_in_threads
from tests.payments.helpers import earnings_give

pytestmark = pytest.mark.django_db

REQUEST = {"amount": 150, "method": "ton", "destination": "UQ-wallet-address"}


def earnings(user) -> int:
    return ReferralAccount.objects.get(user=user).earnings


def test_a_withdrawal_holds_the_amount_at_once(owner_client, owner, audit_passes):
    earnings_give(owner, 200)
    response = owner_client.post("/api/withdrawals", REQUEST, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["method"], body["destination"], body["status"]) == (
        150, "ton", "UQ-wallet-address", "pending")
    assert earnings(owner) == 50
    hold = ReferralEarningsEntry.objects.get(kind=EarningsKind.WITHDRAWAL_HOLD)
    assert (hold.amount, hold.balance_after, hold.reference) == (-150, 50, f"withdrawal:{body['id']}")
    summary = owner_client.get("/api/referrals").json()
    assert (summary["earnings"], summary["pending_withdrawal"]) == (50, 150)


def test_below_the_minimum_is_refused(owner_client, owner, audit_passes):
    earnings_give(owner, 200)
    response = owner_client.post("/api/withdrawals", {**REQUEST, "amount": 99}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "WITHDRAWAL_BELOW_MINIMUM" and body["details"]["minimum"] == 100
    assert "100" in body["message"]
    assert earnings(owner) == 200 and not Withdrawal.objects.exists()


def test_more_than_the_earnings_is_refused(owner_client, owner, audit_passes):
    earnings_give(owner, 120)
    response = owner_client.post("/api/withdrawals", REQUEST, format="json")
    assert response.status_code == 402
    assert response.json()["code"] == "INSUFFICIENT_EARNINGS"
    assert response.json()["details"] == {"earnings": 120, "amount": 150}
    assert earnings(owner) == 120 and not Withdrawal.objects.exists()


def test_a_user_without_earnings_is_refused(owner_client):
    response = owner_client.post("/api/withdrawals", REQUEST, format="json")
    assert response.status_code == 402 and response.json()["code"] == "INSUFFICIENT_EARNINGS"


def test_a_second_pending_withdrawal_is_refused(owner_client, owner, audit_passes):
    earnings_give(owner, 400)
    assert owner_client.post("/api/withdrawals", REQUEST, format="json").status_code == 201
    response = owner_client.post("/api/withdrawals", REQUEST, format="json")
    assert response.status_code == 409 and response.json()["code"] == "WITHDRAWAL_ALREADY_PENDING"
    assert earnings(owner) == 250


@pytest.mark.parametrize(("body", "field"), [
    ({"method": "ton", "destination": "x"}, "amount"),
    ({**REQUEST, "amount": 0}, "amount"),
    ({**REQUEST, "amount": -5}, "amount"),
    ({**REQUEST, "amount": "lots"}, "amount"),
    ({**REQUEST, "method": "paypal"}, "method"),
    ({**REQUEST, "destination": ""}, "destination"),
    ({**REQUEST, "destination": "   "}, "destination"),
    ({**REQUEST, "destination": "x" * 256}, "destination"),
])
def test_bad_input_is_a_validation_error(owner_client, owner, body, field, audit_passes):
    earnings_give(owner, 200)
    response = owner_client.post("/api/withdrawals", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and field in response.json()["details"]
    assert earnings(owner) == 200


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_for_the_whole_balance_one_succeeds(owner, audit_passes):
    earnings_give(owner, 300)

    def request(i: int) -> tuple[int, str]:
        response = api_client_for(owner.telegram_id).post(
            "/api/withdrawals", {**REQUEST, "amount": 300}, format="json"
        )
        return response.status_code, response.json().get("code", "")

    results = run_in_threads(2, request)
    assert sorted(status for status, _ in results) == [201, 409], results
    assert earnings(owner) == 0
    assert Withdrawal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_requests_never_overdraw(owner, audit_passes):
    earnings_give(owner, 300)
    results = run_in_threads(
        6, lambda i: api_client_for(owner.telegram_id).post(
            "/api/withdrawals", {**REQUEST, "amount": 100 + i * 10}, format="json").status_code
    )
    assert results.count(201) == 1
    withdrawal = Withdrawal.objects.get()
    assert earnings(owner) == 300 - withdrawal.amount


def test_the_list_shows_only_the_users_own(owner_client, stranger_client, owner, stranger, audit_passes):
    earnings_give(owner, 200)
    owner_client.post("/api/withdrawals", REQUEST, format="json")
    mine = owner_client.get("/api/withdrawals").json()
    assert [w["amount"] for w in mine["results"]] == [150]
    assert stranger_client.get("/api/withdrawals").json()["results"] == []


def test_withdrawals_need_authentication(anonymous_client):
    assert anonymous_client.get("/api/withdrawals").status_code == 401
    assert anonymous_client.post("/api/withdrawals", REQUEST, format="json").status_code == 401
