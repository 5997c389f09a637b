"""GET /api/payments and /api/payments/<id>: a user's own payments only."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_list_is_newest_first_with_cursor_pagination(owner_client, owner, pack, make_pending, make_paid,
                                                         audit_passes):
    paid = make_paid(owner, pack)
    pending = make_pending(owner, pack)
    body = owner_client.get("/api/payments").json()
    assert set(body) == {"results", "next", "previous"}
    assert [p["id"] for p in body["results"]] == [pending.pk, paid.pk]
    first = body["results"][1]
    assert first["pack"] == "test-pack" and first["title"] == "Test: 120 credits"
    assert (first["stars"], first["credits"], first["status"]) == (100, 120, "paid")
    assert first["paid_at"] and first["refunded_at"] is None


def test_pages_follow_the_cursor(owner_client, owner, pack, make_pending):
    ids = [make_pending(owner, pack).pk for _ in range(5)]
    page = owner_client.get("/api/payments", {"page_size": 2}).json()
    seen = [p["id"] for p in page["results"]]
    while page["next"]:
        page = owner_client.get(page["next"]).json()
        seen += [p["id"] for p in page["results"]]
    assert seen == sorted(ids, reverse=True)


def test_a_stranger_sees_none_of_the_owners_payments(stranger_client, owner, pack, make_paid, audit_passes):
    payment = make_paid(owner, pack)
    assert stranger_client.get("/api/payments").json()["results"] == []
    response = stranger_client.get(f"/api/payments/{payment.pk}")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


def test_the_owner_sees_one_payment(owner_client, owner, pack, make_paid, audit_passes):
    payment = make_paid(owner, pack)
    body = owner_client.get(f"/api/payments/{payment.pk}").json()
    assert body["id"] == payment.pk and body["status"] == "paid"


def test_payments_need_authentication(anonymous_client):
    assert anonymous_client.get("/api/payments").status_code == 401
