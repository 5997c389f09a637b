"""GET /api/generations (history) and GET /api/generations/<id> (detail): only one's own."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from generations.models import AIModel, Generation
from tests.generations.api.helpers import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/generations"


def make_generations(user: User, model: AIModel, count: int, **fields) -> list[Generation]:
    now = timezone.now()
    return Generation.objects.bulk_create(
        Generation(
            user=user, model=model, kind=model.kind, prompt=f"prompt {i}", params={}, credits_charged=model.price,
            timeout_at=now + timedelta(minutes=15), **fields,
        )
        for i in range(count)
    )


def test_history_is_newest_first_with_cursor_pages(owner, owner_client, image_model):
    made = make_generations(owner, image_model, 45)
    expected_ids = sorted((g.pk for g in made), reverse=True)

    first = owner_client.get(URL)
    assert first.status_code == 200
    page = first.json()
    assert set(page) == {"results", "next", "previous"}
    assert [g["id"] for g in page["results"]] == expected_ids[:20]
    assert page["previous"] is None and page["next"].startswith("http://testserver/api/generations?cursor=")

    second = owner_client.get(page["next"]).json()
    assert [g["id"] for g in second["results"]] == expected_ids[20:40]
    third = owner_client.get(second["next"]).json()
    assert [g["id"] for g in third["results"]] == expected_ids[40:]
    assert third["next"] is None
    back = owner_client.get(third["previous"]).json()
    assert [g["id"] for g in back["results"]] == expected_ids[20:40]


def test_new_generations_do_not_shift_a_cursor(owner, owner_client, image_model):
    made = make_generations(owner, image_model, 30)
    page = owner_client.get(URL).json()
    make_generations(owner, image_model, 5)
    second = owner_client.get(page["next"]).json()
    assert [g["id"] for g in second["results"]] == sorted((g.pk for g in made), reverse=True)[20:30]


@pytest.mark.parametrize(("asked", "got"), [("1", 1), ("5", 5), ("50", 50)])
def test_page_size(owner, owner_client, image_model, asked, got):
    make_generations(owner, image_model, 60)
    assert len(owner_client.get(URL, {"page_size": asked}).json()["results"]) == got


@pytest.mark.parametrize("asked", ["0", "51", "500", "-1", "abc", "2.5", ""])
def test_a_page_size_outside_1_to_50_is_refused(owner, owner_client, asked):
    """Not silently replaced by the default: the client would not notice its bug."""
    body = assert_error(owner_client.get(URL, {"page_size": asked}), 400, "VALIDATION_ERROR")
    assert "page_size" in body["details"]


def test_filters_by_status_and_kind(owner, owner_client, image_model, video_model):
    make_generations(owner, image_model, 2)
    completed = make_generations(owner, image_model, 3, status=Generation.Status.COMPLETED)
    failed = make_generations(owner, video_model, 1, status=Generation.Status.FAILED)
    videos = make_generations(owner, video_model, 2) + failed

    def ids(**query):
        response = owner_client.get(URL, query)
        assert response.status_code == 200, response.content
        return {g["id"] for g in response.json()["results"]}

    assert ids(status="completed") == {g.pk for g in completed}
    assert ids(kind="video") == {g.pk for g in videos}
    assert ids(status="failed", kind="video") == {g.pk for g in failed}
    assert ids(status="completed,failed") == {g.pk for g in completed + failed}
    assert ids(status="cancelled") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": "pending,nope"}, "status"),
        ({"status": ","}, "status"),
        ({"kind": "audio"}, "kind"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_invalid_filters_are_400(owner_client, query, field):
    body = assert_error(owner_client.get(URL, query), 400, "VALIDATION_ERROR")
    assert field in body["details"]


def test_stranger_never_sees_the_owners_history(owner, stranger, owner_client, stranger_client, image_model):
    mine = make_generations(owner, image_model, 3)
    theirs = make_generations(stranger, image_model, 1)
    assert {g["id"] for g in owner_client.get(URL).json()["results"]} == {g.pk for g in mine}
    assert [g["id"] for g in stranger_client.get(URL).json()["results"]] == [theirs[0].pk]
    for generation in mine:
        assert_error(stranger_client.get(f"{URL}/{generation.pk}"), 404, "NOT_FOUND")


def test_detail_renders_exactly_the_contract(owner, owner_client, image_model):
    generation = make_generations(owner, image_model, 1, idempotency_key="k-1")[0]
    Generation.objects.filter(pk=generation.pk).update(params={"aspect_ratio": "16:9"})
    generation.refresh_from_db()

    response = owner_client.get(f"{URL}/{generation.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": generation.pk,
        "model": "test-image",
        "kind": "image",
        "prompt": "prompt 0",
        "params": {"aspect_ratio": "16:9"},
        "status": "pending",
        "credits_charged": 10,
        "refunded": False,
        "images": [],
        "result": None,
        "results": [],
        "error": None,
        "idempotency_key": "k-1",
        "created_at": generation.created_at.isoformat().replace("+00:00", "Z"),
        "started_at": None,
        "finished_at": None,
    }


def test_completed_result_has_an_absolute_url_and_content_type(owner, owner_client, image_model):
    generation = make_generations(owner, image_model, 1, status=Generation.Status.COMPLETED)[0]
    generation.result_file.save("result.png", ContentFile(b"\x89PNG fake"), save=False)
    Generation.objects.filter(pk=generation.pk).update(
        result_file=generation.result_file.name, result_content_type="image/png", finished_at=timezone.now()
    )
    body = owner_client.get(f"{URL}/{generation.pk}").json()
    result = body["result"]
    # A generation completed before several results existed still lists its one result.
    assert body["results"] == [result]
    assert result["content_type"] == "image/png"
    assert result["url"].startswith("http://testserver/media/generations/")
    assert result["url"].endswith(".png")


def test_failed_generation_shows_its_error(owner, owner_client, image_model):
    generation = make_generations(
        owner, image_model, 1, status=Generation.Status.FAILED, refunded=True, error_code="PROVIDER_ERROR",
        error_message="The provider is unavailable.",
    )[0]
    body = owner_client.get(f"{URL}/{generation.pk}").json()
    assert body["error"] == {"code": "PROVIDER_ERROR", "message": "The provider is unavailable."}
    assert body["result"] is None and body["refunded"] is True


@pytest.mark.parametrize("path", ["abc", "1.5", "-1", "99999999999999999999999999", "0"])
def test_detail_of_a_bad_or_missing_id_is_a_json_404(owner_client, path):
    assert_error(owner_client.get(f"{URL}/{path}"), 404, "NOT_FOUND")


def test_history_and_detail_need_auth(anonymous_client):
    assert_error(anonymous_client.get(URL), 401, "AUTH_REQUIRED")
    assert_error(anonymous_client.get(f"{URL}/1"), 401, "AUTH_REQUIRED")
