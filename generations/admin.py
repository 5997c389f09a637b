import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from generations.admin_actions import staff_refund
from generations.models import AIModel, Generation
from generations.params import params_schema_problems
from generations.services import generation_cancel_if_active


class AIModelForm(forms.ModelForm[AIModel]):
    class Meta:
        model = AIModel
        fields = ["slug", "name", "kind", "provider", "provider_model_id", "price", "is_active", "sort_order",
                  "description", "params_schema"]
        help_texts = {
            "params_schema": _(
                'JSON: {"aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"], "default": "1:1"}, '
                '"seed": {"type": "integer", "min": 1, "max": 1000}, "raw": {"type": "boolean", "default": false}}. '
                "Names are the provider's request fields."
            ),
            "provider_model_id": _("The provider's id of the model, e.g. google/gemini-2.5-flash-image."),
        }

    def clean_params_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = self.cleaned_data["params_schema"]
        problems = params_schema_problems(schema)
        if problems:
            raise forms.ValidationError(problems)
        return schema


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin[AIModel]):
    form = AIModelForm
    list_display = ["name", "slug", "kind", "provider", "provider_model_id", "price", "is_active", "sort_order"]
    list_editable = ["price", "is_active", "sort_order"]
    list_filter = ["kind", "provider", "is_active"]
    search_fields = ["slug", "name", "provider_model_id"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["sort_order", "id"]
    # A model with history cannot be deleted (PROTECT): staff retire it by clearing "active".
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin[Generation]):
    """Read-only: a generation changes only through its services (status, money)."""

    list_display = ["id", "created_at", "user", "model", "kind", "status", "credits_charged", "refunded",
                    "prompt_short"]
    list_filter = ["status", "kind", "model", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=user__telegram_id", "user__username", "prompt", "=idempotency_key", "=provider_job_id"]
    list_select_related = ["user", "model"]
    show_full_result_count = False
    ordering = ["-id"]
    actions = ["cancel_and_refund", staff_refund]
    fieldsets = [
        (None, {"fields": ["user", "model", "kind", "prompt", "params_pretty", "status"]}),
        (_("Money"), {"fields": ["credits_charged", "refunded"]}),
        (_("Result"), {"fields": ["result_link", "result_content_type", "error_code", "error_message"]}),
        (_("Processing"), {"fields": ["provider_job_id", "attempts", "idempotency_key", "payload_hash",
                                      "created_at", "started_at", "finished_at", "timeout_at"]}),
    ]
    readonly_fields = ["user", "model", "kind", "prompt", "params_pretty", "status", "credits_charged", "refunded",
                       "result_link", "result_content_type", "error_code", "error_message", "provider_job_id",
                       "attempts", "idempotency_key", "payload_hash", "created_at", "started_at", "finished_at",
                       "timeout_at"]

    @admin.display(description=_("prompt"))
    def prompt_short(self, generation: Generation) -> str:
        return Truncator(generation.prompt).chars(60)

    @admin.display(description=_("parameters"))
    def params_pretty(self, generation: Generation) -> str:
        return format_html("<pre>{}</pre>", json.dumps(generation.params, indent=2, ensure_ascii=False))

    @admin.display(description=_("result"))
    def result_link(self, generation: Generation) -> str:
        if not generation.result_file:
            return "-"
        url = generation.result_file.url
        if generation.result_content_type.startswith("image/"):
            return format_html('<a href="{0}" target="_blank"><img src="{0}" style="max-height:240px"></a>', url)
        return format_html('<a href="{}" target="_blank">{}</a>', url, generation.result_file.name)

    @admin.action(description=_("Cancel and refund selected active generations"), permissions=["change"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Generation]) -> None:
        active_ids = list(queryset.filter(status__in=Generation.ACTIVE_STATUSES).values_list("pk", flat=True))
        # The service's conditional UPDATE decides, so a generation that finished
        # meanwhile is left alone and nothing is refunded twice.
        cancelled = sum(generation_cancel_if_active(generation_id=pk) for pk in active_ids)
        skipped = queryset.count() - cancelled
        self.message_user(
            request,
            ngettext(
                "Cancelled and refunded %(count)d generation.", "Cancelled and refunded %(count)d generations.",
                cancelled,
            )
            % {"count": cancelled},
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected generation had already finished and was left as it is.",
                    "%(count)d selected generations had already finished and were left as they are.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Generation | None = None) -> bool:
        return False
