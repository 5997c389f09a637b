from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = _("Generations")

    def ready(self) -> None:
        from accounts.audit import audit_check_register
        from generations import checks  # noqa: F401 - registers the worker's system checks
        from generations.audit import generation_money_rule
        from generations.services.staff_refund import generation_staff_refunds_audit

        audit_check_register("generation refunds", generation_money_rule)
        audit_check_register("generation staff refunds", generation_staff_refunds_audit)
        # After every migrate, on every database it ran on: exactly one sweeper schedule.
        post_migrate.connect(_sweep_schedule_ensure, sender=self, dispatch_uid="generations.sweep_schedule")


def _sweep_schedule_ensure(using: str = "default", **kwargs: Any) -> None:
    from django_q.models import Schedule

    from generations.services.sweeper import sweep_schedule_ensure

    # `migrate generations` on a database where django_q is not migrated yet.
    if Schedule._meta.db_table in connections[using].introspection.table_names():
        sweep_schedule_ensure(using=using)
