"""Staff create and edit promo codes in the admin; redemptions, attempts and claims are read-only."""

import pytest

from promotions.models import PromoCode
from tests.factories import PromoCodeFactory
from tests.promotions.helpers import redeem

pytestmark = pytest.mark.django_db

ADD = "/admin/promotions/promocode/add/"


def form(**fields):
    return {"code": "SUMMER", "credits": "30", "max_redemptions": "500", "expires_at_0": "", "expires_at_1": "",
            "is_active": "on", "note": "summer campaign", **fields}


def test_staff_create_a_code_stored_normalised(staff_client, staff_user):
    response = staff_client.post(ADD, form(code="  summer-2026 "))
    assert response.status_code == 302, response.content.decode()[:3000]
    promo = PromoCode.objects.get()
    assert (promo.code, promo.credits, promo.max_redemptions, promo.redeemed, promo.is_active, promo.created_by) == (
        "SUMMER-2026", 30, 500, 0, True, staff_user)


def test_a_code_differing_only_in_case_is_a_duplicate(staff_client):
    PromoCodeFactory.create(code="SUMMER")
    response = staff_client.post(ADD, form(code="summer"))
    assert response.status_code == 200
    assert "Promo code with this Code already exists." in response.content.decode()
    assert PromoCode.objects.count() == 1


@pytest.mark.parametrize("code", ["ab", "with space", "ÜBER", "x" * 33, "-LEADING"])
def test_malformed_codes_are_refused(staff_client, code):
    response = staff_client.post(ADD, form(code=code))
    assert response.status_code == 200
    assert not PromoCode.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("credits", "0"), ("max_redemptions", "0"), ("credits", "-5")])
def test_zero_or_negative_amounts_are_refused(staff_client, field, value):
    assert staff_client.post(ADD, form(**{field: value})).status_code == 200
    assert not PromoCode.objects.exists()


def test_an_edit_never_writes_back_a_stale_counter(staff_client, owner_client, stranger_client, audit_passes):
    promo = PromoCodeFactory.create(code="EDIT", credits=5, max_redemptions=10)
    redeem(owner_client, "EDIT")
    page = staff_client.get(f"/admin/promotions/promocode/{promo.pk}/change/")
    assert page.status_code == 200
    redeem(stranger_client, "EDIT")  # while the form is open

    response = staff_client.post(f"/admin/promotions/promocode/{promo.pk}/change/",
                                 form(code="EDIT", credits="6", max_redemptions="20"))
    assert response.status_code == 302
    promo.refresh_from_db()
    assert (promo.credits, promo.max_redemptions, promo.redeemed) == (6, 20, 2)


def test_the_cap_cannot_go_below_the_redemptions(staff_client, owner_client, stranger_client, audit_passes):
    promo = PromoCodeFactory.create(code="CAP", max_redemptions=10)
    redeem(owner_client, "CAP")
    redeem(stranger_client, "CAP")
    response = staff_client.post(f"/admin/promotions/promocode/{promo.pk}/change/", form(code="CAP",
                                                                                        max_redemptions="1"))
    assert response.status_code == 200
    assert "2 users have already redeemed it" in response.content.decode()
    promo.refresh_from_db()
    assert promo.max_redemptions == 10


def test_a_redeemed_code_cannot_be_deleted(staff_client, owner_client, audit_passes):
    promo = PromoCodeFactory.create(code="KEEP")
    unused = PromoCodeFactory.create(code="UNUSED")
    redeem(owner_client, "KEEP")
    assert staff_client.post(f"/admin/promotions/promocode/{promo.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff_client.post(f"/admin/promotions/promocode/{unused.pk}/delete/", {"post": "yes"}).status_code == 302
    assert list(PromoCode.objects.values_list("code", flat=True)) == ["KEEP"]


@pytest.mark.parametrize("model", ["promocode", "promoredemption", "promoattempt", "dailybonusclaim"])
def test_every_page_renders_and_the_history_is_read_only(staff_client, owner_client, bonus_on, model, audit_passes):
    PromoCodeFactory.create(code="PAGE")
    redeem(owner_client, "PAGE")
    owner_client.post("/api/bonus/daily")
    assert staff_client.get(f"/admin/promotions/{model}/").status_code == 200
    if model != "promocode":
        assert staff_client.get(f"/admin/promotions/{model}/add/").status_code == 403
