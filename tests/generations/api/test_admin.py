"""Staff views of the catalog and of generations, and the cancel-and-refund action."""

import pytest
from django.test import Client

from generations.models import AIModel, Generation
from generations.services import generation_claim, generation_complete
from tests.generations.api.helpers import IMAGE_PRICE, balance, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def test_generation_changelist_filters_and_search(staff_client, rich_owner, owner_client, image_model):
    created = start(owner_client, prompt="a lighthouse at dusk").json()
    url = "/admin/generations/generation/"
    queries = ["", "?status__exact=pending", "?kind__exact=image", f"?model__id__exact={image_model.pk}",
               "?created_at__gte=2000-01-01+00%3A00%3A00%2B00%3A00", "?q=lighthouse",
               f"?q={rich_owner.telegram_id}", "?q=owner"]
    for query in queries:
        response = staff_client.get(url + query)
        assert response.status_code == 200, query
        assert f"/admin/generations/generation/{created['id']}/change/" in response.content.decode(), query
    assert f"/{created['id']}/change/" not in staff_client.get(url + "?q=submarine").content.decode()


def test_generation_page_is_read_only(staff_client, rich_owner, owner_client, image_model):
    created = start(owner_client).json()
    page = staff_client.get(f"/admin/generations/generation/{created['id']}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="credits_charged"' not in html and 'name="status"' not in html
    assert staff_client.get("/admin/generations/generation/add/").status_code == 403


def test_cancel_and_refund_action_refunds_active_ones_only(staff_client, rich_owner, owner_client, image_model,
                                                           audit_passes):
    active = start(owner_client).json()
    finished = start(owner_client).json()
    generation_claim(generation_id=finished["id"])
    generation_complete(generation_id=finished["id"], result_file="generations/f.png", content_type="image/png")

    response = staff_client.post(
        "/admin/generations/generation/",
        {"action": "cancel_and_refund", "_selected_action": [active["id"], finished["id"]]},
        follow=True,
    )
    assert response.status_code == 200
    assert Generation.objects.get(pk=active["id"]).status == "cancelled"
    assert Generation.objects.get(pk=finished["id"]).status == "completed"
    assert balance(rich_owner) == 10_000 - IMAGE_PRICE
    text = response.content.decode()
    assert "Cancelled and refunded 1 generation." in text
    assert "1 selected generation had already finished" in text


def test_catalog_changelist_edits_price_and_availability(staff_client, image_model):
    AIModel.objects.exclude(pk=image_model.pk).delete()
    url = "/admin/generations/aimodel/"
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(image_model.pk), "form-0-price": "25", "form-0-sort_order": "3", "_save": "Save",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    image_model.refresh_from_db()
    assert (image_model.price, image_model.is_active, image_model.sort_order) == (25, False, 3)


def test_catalog_form_refuses_a_bad_parameter_schema(staff_client, image_model):
    response = staff_client.post(f"/admin/generations/aimodel/{image_model.pk}/change/", {
        "slug": image_model.slug, "name": image_model.name, "kind": "image", "provider": "aimlapi",
        "provider_model_id": "x/y", "price": "5", "is_active": "on", "sort_order": "1", "description": "",
        "params_schema": '{"aspect_ratio": {"type": "choice", "choices": []}}',
    })
    assert response.status_code == 200
    assert "choices is a non-empty list" in response.content.decode()
    image_model.refresh_from_db()
    assert image_model.price == 10
