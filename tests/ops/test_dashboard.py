"""The staff dashboard: staff only, linked from the admin index, charts and figures of
the chosen period, and the generations that are pending or stuck now."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from generations.models import Generation
from tests.helpers import credits_give
from tests.ops.helpers import generation_finish, generation_move_back, generation_new

pytestmark = pytest.mark.django_db

Status = Generation.Status


@pytest.fixture
def staff_client(staff_user: User) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def some_history(settings, owner, image_model, video_model, pack):
    from tests.factories import PaidPaymentFactory

    settings.GENERATION_MAX_ACTIVE = 100
    settings.GENERATION_RATE_LIMIT_PER_MINUTE = 100
    credits_give(owner, 1000)
    generation_finish(generation_new(owner, image_model), Status.COMPLETED, seconds=4)
    generation_finish(generation_new(owner, image_model), Status.FAILED, error_code="TIMEOUT")
    generation_finish(generation_new(owner, video_model), Status.COMPLETED, seconds=90)
    stuck = generation_new(owner, image_model)
    generation_move_back(stuck, timedelta(minutes=5))
    PaidPaymentFactory.create(user=owner, pack=pack)
    return {"stuck": stuck}


def test_only_staff_get_the_dashboard(client, owner):
    assert client.get("/admin/dashboard/").status_code == 302
    not_staff = User.objects.create_user(email="user@example.com", password="pw-12345678")
    client.force_login(not_staff)
    response = client.get("/admin/dashboard/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_index_links_to_the_dashboard(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    assert b'href="/admin/dashboard/"' in response.content


def test_the_dashboard_shows_the_period(staff_client, some_history, pack):
    response = staff_client.get("/admin/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="ops-chart"') == 6
    # No JavaScript of ours: the charts are inline SVG; only the admin's own scripts load.
    assert all(src.startswith("/static/admin/") for src in re.findall(r'<script[^>]*src="([^"]*)"', html))
    assert html.count("<script") == len(re.findall(r"<script[^>]*src=", html))
    summary = response.context["summary"]
    assert summary["generations"] == 4
    assert summary["success_rate"] == pytest.approx(2 / 3)
    assert summary["credits_sold"] == pack.credits
    assert summary["credits_spent"] == 10 + 50 + 10  # the failed one was refunded
    assert summary["credits_granted"] == 1000
    assert summary["stars_received"] == pack.stars
    assert summary["payments"] == 1
    assert summary["new_users"] == 1
    models = {m.slug: m for m in response.context["models"]}
    assert models["ops-image"].started == 3 and models["ops-image"].active == 1
    assert models["ops-image"].median_seconds == pytest.approx(4)
    assert models["ops-video"].median_seconds == pytest.approx(90)
    assert models["ops-video"].success_rate == 1


def test_the_dashboard_lists_the_oldest_live_generations(staff_client, some_history, settings):
    settings.GENERATION_PENDING_REQUEUE_SECONDS = 120
    response = staff_client.get("/admin/dashboard/")
    live = response.context["live"]
    assert (live.pending, live.processing) == (1, 0)
    assert [item.generation.pk for item in live.oldest] == [some_history["stuck"].pk]
    assert live.oldest[0].problem == "unclaimed"
    assert f"/admin/generations/generation/{some_history['stuck'].pk}/change/" in response.content.decode()


def test_a_generation_past_its_timeout_is_overdue(staff_client, some_history):
    Generation.objects.filter(pk=some_history["stuck"].pk).update(timeout_at=timezone.now() - timedelta(minutes=1))
    live = staff_client.get("/admin/dashboard/").context["live"]
    assert live.overdue == 1 and live.oldest[0].problem == "overdue"


def test_a_chosen_period(staff_client, some_history):
    today = timezone.now().astimezone(UTC).date()
    response = staff_client.get("/admin/dashboard/", {"first": (today - timedelta(days=6)).isoformat(),
                                                      "last": today.isoformat()})
    assert len(response.context["period"].days) == 7
    past = staff_client.get("/admin/dashboard/", {"first": "2020-01-01", "last": "2020-01-31"})
    assert past.context["summary"]["generations"] == 0
    assert len(past.context["period"].days) == 31


def test_quick_periods_and_bounds(staff_client, settings):
    assert len(staff_client.get("/admin/dashboard/", {"days": 7}).context["period"].days) == 7
    settings.DASHBOARD_MAX_DAYS = 90
    assert len(staff_client.get("/admin/dashboard/", {"days": 5000}).context["period"].days) == 90


@pytest.mark.parametrize(
    "query",
    [{"first": "2024-02-01", "last": "2024-01-01"}, {"first": "2020-01-01", "last": "2024-01-01"},
     {"first": "yesterday"}, {"days": "-3"}],
)
def test_a_bad_period_says_why_and_shows_the_default(staff_client, settings, query):
    response = staff_client.get("/admin/dashboard/", query)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="errorlist"' in response.content.decode()
    assert len(response.context["period"].days) == settings.DASHBOARD_DEFAULT_DAYS


def test_the_page_costs_the_same_number_of_queries_however_much_history(
    staff_client, some_history, owner, image_model, django_assert_max_num_queries
):
    with django_assert_max_num_queries(40) as few:
        staff_client.get("/admin/dashboard/")
    for _ in range(5):
        generation_finish(generation_new(owner, image_model), Status.COMPLETED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get("/admin/dashboard/")


def test_texts_are_escaped(staff_client, image_model, owner):
    image_model.slug = "evil"
    image_model.name = "<script>alert(1)</script>"
    image_model.save()
    credits_give(owner, 100)
    generation_new(owner, image_model)
    html = staff_client.get("/admin/dashboard/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_days_are_utc_days(owner, image_model, settings):
    """A generation at 23:30 UTC counts on its own UTC day, not on the next one."""
    from ops.selectors.dashboard import Period, generations_per_day

    credits_give(owner, 100)
    generation = generation_new(owner, image_model)
    late = datetime(2024, 3, 10, 23, 30, tzinfo=UTC)
    Generation.objects.filter(pk=generation.pk).update(created_at=late)
    per_day = generations_per_day(period=Period(first=late.date(), last=late.date() + timedelta(days=1)))
    assert per_day[late.date()] == {"pending": 1}
    assert per_day[late.date() + timedelta(days=1)] == {}


def test_a_processing_generation_whose_next_step_is_long_overdue_is_stalled(staff_client, owner, image_model, settings):
    """A worker died holding it: the sweeper resumes it after GENERATION_STALLED_AFTER_SECONDS."""
    settings.GENERATION_STALLED_AFTER_SECONDS = 90
    credits_give(owner, 100)
    generation = generation_finish(generation_new(owner, image_model), Status.PROCESSING)
    Generation.objects.filter(pk=generation.pk).update(next_check_at=timezone.now() - timedelta(minutes=5))
    live = staff_client.get("/admin/dashboard/").context["live"]
    assert (live.processing, live.stalled) == (1, 1)
    assert live.oldest[0].problem == "stalled"
    Generation.objects.filter(pk=generation.pk).update(next_check_at=timezone.now() + timedelta(seconds=10))
    live = staff_client.get("/admin/dashboard/").context["live"]
    assert (live.stalled, live.oldest[0].problem) == (0, "")


def test_the_dashboard_speaks_russian(staff_client):
    html = staff_client.get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Генерации по дням и статусам" in html and "Сводка" in html
