"""GET /api/payments/packs: the packs on sale, in the user's language."""

import pytest

from payments.models import CreditPack
from tests.factories import CreditPackFactory
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def test_the_default_packs_come_from_the_data_migration():
    packs = list(CreditPack.objects.filter(slug__in=["starter", "standard", "pro", "max"]).order_by("sort_order"))
    assert [p.slug for p in packs] == ["starter", "standard", "pro", "max"]
    assert all(p.is_active and p.stars > 0 and p.credits > 0 and len(p.title) <= 32 for p in packs)


def test_packs_on_sale_in_order(owner_client, pack):
    CreditPackFactory.create(slug="hidden", title="Hidden", stars=10, credits=10, is_active=False)
    body = owner_client.get("/api/payments/packs").json()
    slugs = [p["slug"] for p in body]
    assert slugs[0] == "test-pack" and "hidden" not in slugs
    assert body[0] == {"slug": "test-pack", "title": "Test: 120 credits", "stars": 100, "credits": 120,
                       "period_days": None}


def test_titles_follow_the_users_language(owner, pack):
    ru = api_client_for(owner.telegram_id, language_code="ru").get("/api/payments/packs").json()
    assert ru[0]["title"] == "Тест: 120 кредитов"
    pack.title_ru = ""
    pack.save()
    ru = api_client_for(owner.telegram_id, language_code="ru").get("/api/payments/packs").json()
    assert ru[0]["title"] == "Test: 120 credits"


def test_packs_need_authentication(anonymous_client):
    response = anonymous_client.get("/api/payments/packs")
    assert response.status_code == 401 and response.json()["code"] == "AUTH_REQUIRED"
