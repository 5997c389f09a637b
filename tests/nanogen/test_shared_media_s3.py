"""Several machines share media through an S3-compatible object store (moto's real
server): a worker process stores a result, a different web process serves the
generation whose URL fetches the bytes from the store, and the bot's notification
uploads those bytes to the (fake) Bot API. Each process has its own, empty, MEDIA_ROOT,
as machines would: nothing may go through a local path."""

import os
import sys

import pytest
import requests

from generations.models import AIModel
from tests.factories import AIModelFactory, UserFactory
from tests.helpers import OWNER_TELEGRAM_ID, credits_give, init_data_for
from tests.ops.processes import Process, child_env, free_port, gunicorn, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def files_under(path) -> list[str]:
    return [os.path.join(root, name) for root, _, names in os.walk(path) for name in names]


def test_a_result_stored_by_the_worker_is_served_by_another_web_process_and_sent_by_the_bot(
    tmp_path, s3_media, fake_telegram, audit_passes
):
    owner = UserFactory.create(telegram_id=OWNER_TELEGRAM_ID, username="owner", first_name="Owner",
                               language_code="en")
    model = AIModelFactory.create(kind=AIModel.Kind.IMAGE, provider=AIModel.Provider.DEMO, price=3)
    credits_give(owner, 10)
    worker_media, web_media = tmp_path / "worker-media", tmp_path / "web-media"
    worker_media.mkdir()
    web_media.mkdir()
    port = free_port()
    web = gunicorn(port=port, log=tmp_path / "web.log", workers=1, **s3_media.env(TEST_MEDIA_ROOT=str(web_media)))
    worker = Process(
        [sys.executable, "manage.py", "qcluster"], log=tmp_path / "worker.log",
        env=child_env(**s3_media.env(
            TEST_MEDIA_ROOT=str(worker_media), TELEGRAM_API_BASE_URL=fake_telegram.base_url, AIMLAPI_KEY="",
            Q_WORKERS="1",
        )),
    )
    api = f"http://127.0.0.1:{port}/api"
    auth = {"Authorization": f"tma {init_data_for(OWNER_TELEGRAM_ID, first_name='Owner', username='owner')}"}
    try:
        web.start()
        worker.start()
        wait_for(lambda: _answers(f"{api}/health"), seconds=30, what="gunicorn to answer")

        started = requests.post(f"{api}/generations", json={"model": model.slug, "prompt": "a lighthouse"},
                                headers=auth, timeout=10)
        assert started.status_code == 201, started.text
        url = f"{api}/generations/{started.json()['id']}"
        wait_for(lambda: requests.get(url, headers=auth, timeout=10).json()["status"] == "completed",
                 seconds=60, what="the worker to complete the generation", every=0.2)

        result = requests.get(url, headers=auth, timeout=10).json()["result"]
        assert result["url"].startswith(f"{s3_media.endpoint_url}/{s3_media.bucket}/generations/")
        served = requests.get(result["url"], timeout=10)
        assert (served.status_code, served.headers["Content-Type"]) == (200, "image/png")
        assert served.content.startswith(b"\x89PNG\r\n\x1a\n")
        (key,) = s3_media.keys()
        assert s3_media.get(key) == served.content

        (photo,) = fake_telegram.wait_for("sendPhoto", timeout=30)
        assert int(photo["chat_id"]) == OWNER_TELEGRAM_ID
        assert (photo["caption"], photo["photo"].content) == ("a lighthouse", served.content)

        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        img_src = next(d for d in page.headers["Content-Security-Policy"].split(";") if d.strip().startswith("img-src"))
        assert s3_media.endpoint_url in img_src.split()
    except AssertionError:
        print("--- web ---\n" + web.tail() + "\n--- worker ---\n" + worker.tail())
        raise
    finally:
        worker.stop()
        web.stop()
    assert files_under(worker_media) == files_under(web_media) == []


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False
