"""Task names are defined once (core.task_names) and checked at start-up."""

from django.core.management import call_command

from core import checks
from core.task_names import TASK_NAMES


def test_every_task_name_imports_a_function():
    assert checks.task_names_check() == []
    call_command("check")  # the check is registered: a broken name would stop this


def test_a_name_that_imports_nothing_stops_start_up(monkeypatch):
    monkeypatch.setattr(checks, "TASK_NAMES", (*TASK_NAMES, "generations.tasks.generation_gone"))
    assert [message.id for message in checks.task_names_check()] == ["core.E010"]


def test_a_name_of_something_not_callable_stops_start_up(monkeypatch):
    monkeypatch.setattr(checks, "TASK_NAMES", ("core.task_names.GENERATION_RUN",))
    assert [message.id for message in checks.task_names_check()] == ["core.E011"]
