"""gunicorn.conf.py: the web workers chosen by measurement (docs/operations.md,
Benchmarks), and WEB_CONCURRENCY still sets how many."""

import runpy

from tests.docs.helpers import ROOT

CONF = str(ROOT / "gunicorn.conf.py")


def test_three_sync_workers_by_default(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)

    conf = runpy.run_path(CONF)

    assert (conf["worker_class"], conf["workers"]) == ("sync", 3)


def test_web_concurrency_sets_the_number_of_workers(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "7")

    assert runpy.run_path(CONF)["workers"] == 7


def test_the_procfile_leaves_the_workers_to_the_configuration():
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))

    assert "gunicorn nanogen.wsgi" in web
    assert "--workers" not in web and "--worker-class" not in web
