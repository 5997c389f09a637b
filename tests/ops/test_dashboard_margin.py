"""The staff dashboard shows, per model, what the completed generations earned against
what the provider reported it billed: the margin of each model."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from generations.models import AIModel, Generation, StoredFile
from generations.services.lifecycle import generation_claim, generation_complete, generation_fail
from ops.selectors.dashboard import Period, model_stats
from tests.helpers import credits_give
from tests.ops.helpers import generation_new

pytestmark = pytest.mark.django_db


def completed(user: User, model: AIModel, cost: str | None) -> Generation:
    generation = generation_new(user, model)
    generation_claim(generation_id=generation.pk)
    generation_complete(generation_id=generation.pk, results=[StoredFile("generations/x.png", "image/png")],
                        provider_cost_usd=Decimal(cost) if cost else None)
    return generation


def failed(user: User, model: AIModel, cost: str) -> Generation:
    generation = generation_new(user, model)
    generation_claim(generation_id=generation.pk)
    generation_fail(generation_id=generation.pk, error_code="PROMPT_REJECTED", error_message="no",
                    provider_cost_usd=Decimal(cost))
    return generation


def test_margin_per_model(owner, image_model, video_model, settings, audit_passes):
    settings.CREDIT_VALUE_USD = Decimal("0.01")
    credits_give(owner, 1000)
    completed(owner, image_model, "0.039")
    completed(owner, image_model, "0.041")
    failed(owner, image_model, "0.006")  # billed, refunded: costs without revenue
    completed(owner, video_model, None)  # no cost reported

    stats = {item.slug: item for item in model_stats(period=Period.last_days(1))}

    image = stats["ops-image"]
    assert (image.credits_earned, image.revenue_usd) == (20, Decimal("0.20"))
    assert (image.provider_cost_usd, image.costs_reported) == (Decimal("0.086"), 3)
    assert image.margin_usd == Decimal("0.11")
    assert image.margin_rate == pytest.approx(0.55)
    video = stats["ops-video"]
    assert (video.credits_earned, video.costs_reported, video.margin_usd) == (50, 0, None)


def test_the_dashboard_shows_the_margins(staff_user, owner, image_model, audit_passes):
    credits_give(owner, 1000)
    completed(owner, image_model, "0.25")
    client = Client()
    client.force_login(staff_user)
    page = client.get("/admin/dashboard/").content.decode()
    assert "Provider cost (USD)" in page and "Margin (USD)" in page
    # 10 credits at 0.01 = 0.10 earned, 0.25 billed: a loss, flagged.
    assert '<span class="ops-problem">-0.15' in page
