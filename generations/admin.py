import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin, staff_action, staff_permission
from generations.admin_actions import staff_refund
from generations.models import IMAGES_MAX_PER_GENERATION, AIModel, Generation, StoredFile, Upload
from generations.params import params_schema_problems
from generations.rules import model_default_price, rule_problems
from generations.services import generation_cancel_if_active


class AIModelForm(forms.ModelForm[AIModel]):
    class Meta:
        model = AIModel
        fields = ["slug", "name", "kind", "provider", "provider_model_id", "provider_model_id_with_images",
                  "images_min", "images_max", "prompt_optional_with_images", "price", "price_rule", "timeout_rule",
                  "is_active", "sort_order", "description", "params_schema"]
        help_texts = {
            "params_schema": _(
                'JSON: {"aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"], "default": "1:1"}, '
                '"seed": {"type": "integer", "min": 1, "max": 1000}, "raw": {"type": "boolean", "default": false}}. '
                "Names are the provider's request fields. "
                '"with_images": false leaves a parameter out when the start has input images.'
            ),
            "provider_model_id": _("The provider's id of the model, e.g. google/gemini-2.5-flash-image."),
            "provider_model_id_with_images": _(
                "The provider's model that takes the input images (an edit or image-to-video model), e.g. "
                "google/gemini-2.5-flash-image-edit; empty: the same model."
            ),
            "images_max": _("0 for a text-only model."),
            "price": _("Credits. With a price rule it is computed: the rule's price for the default parameters."),
            "price_rule": _(
                'JSON, empty for the flat price: {"base": 12, "factors": {"duration": "value", '
                '"resolution": {"480p": 0.5, "720p": 1, "1080p": 2.25}}, "per_image": 2}. The price is '
                "base x every factor, rounded up, + per_image x input images. A factor is a table from each "
                'value of the parameter to a number, or "value": the parameter\'s own value (num_images, '
                "seconds). A parameter the start leaves out counts 1."
            ),
            "timeout_rule": _(
                'JSON, empty for GENERATION_TIMEOUT_SECONDS: seconds the provider may take, in the price rule\'s '
                'format, e.g. {"base": 1200, "factors": {"duration": {"5": 1, "10": 1.5}}}.'
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].required = False

    def clean_params_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = self.cleaned_data["params_schema"]
        problems = params_schema_problems(schema)
        if problems:
            raise forms.ValidationError(problems)
        return schema

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        schema = data.get("params_schema")
        if schema is None:
            return data  # the schema's own errors come first
        for field in ("price_rule", "timeout_rule"):
            problems = rule_problems(data.get(field) or {}, schema=schema)
            if problems:
                self.add_error(field, problems)
        low, high = data.get("images_min"), data.get("images_max")
        if low is not None and high is not None and not low <= high <= IMAGES_MAX_PER_GENERATION:
            self.add_error("images_max", _("At least the minimum and at most %(max)d.")
                           % {"max": IMAGES_MAX_PER_GENERATION})
        if data.get("price_rule") and not self.errors:
            # The catalog's price is the rule's for the default parameters: computed, never typed.
            rule = data["price_rule"]
            data["price"] = model_default_price(model=AIModel(price=1, price_rule=rule, params_schema=schema))
        elif not data.get("price_rule") and not data.get("price"):
            self.add_error("price", _("A model without a price rule needs a price of at least 1."))
        return data


class AIModelChangelistForm(forms.ModelForm[AIModel]):
    """The catalog list's inline edits: a price that follows a rule is edited in its rule."""

    class Meta:
        model = AIModel
        fields = ["price", "is_active", "sort_order"]

    def clean_price(self) -> int:
        price: int = self.cleaned_data["price"]
        model = self.instance
        if model.price_rule and price != model_default_price(model=model):
            raise forms.ValidationError(_("This model's price follows its price rule: edit the rule."))
        return price


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin[AIModel]):
    form = AIModelForm
    list_display = ["name", "slug", "kind", "provider", "provider_model_id", "images_max", "price", "is_active",
                    "sort_order"]
    list_editable = ["price", "is_active", "sort_order"]
    list_filter = ["kind", "provider", "is_active"]
    search_fields = ["slug", "name", "provider_model_id"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["sort_order", "id"]
    # A model with history cannot be deleted (PROTECT): staff retire it by clearing "active".
    readonly_fields = ["created_at", "updated_at"]

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm[AIModel]]:
        return AIModelChangelistForm


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin[Generation]):
    """Read-only: a generation changes only through its services (status, money)."""

    list_display = ["id", "created_at", "user", "model", "kind", "status", "credits_charged", "refunded",
                    "provider_cost_usd", "prompt_short"]
    list_filter = ["status", "kind", "model", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=user__telegram_id", "user__username", "prompt", "=idempotency_key", "=provider_job_id"]
    list_select_related = ["user", "model"]
    show_full_result_count = False
    ordering = ["-id"]
    actions = ["cancel_and_refund", staff_refund]
    fieldsets = [
        (None, {"fields": ["user", "model", "kind", "prompt", "params_pretty", "input_images", "status"]}),
        (_("Money"), {"fields": ["credits_charged", "refunded", "provider_cost_usd"]}),
        (_("Result"), {"fields": ["result_link", "result_content_type", "error_code", "error_message"]}),
        (_("Processing"), {"fields": ["provider_job_id", "unconfirmed_request_id", "unconfirmed_since", "attempts",
                                      "idempotency_key", "payload_hash", "created_at", "started_at", "finished_at",
                                      "timeout_at"]}),
    ]
    readonly_fields = ["user", "model", "kind", "prompt", "params_pretty", "input_images", "status",
                       "credits_charged", "refunded", "provider_cost_usd", "result_link", "result_content_type",
                       "error_code", "error_message", "provider_job_id", "unconfirmed_request_id",
                       "unconfirmed_since", "attempts", "idempotency_key", "payload_hash", "created_at", "started_at",
                       "finished_at", "timeout_at"]

    @admin.display(description=_("prompt"))
    def prompt_short(self, generation: Generation) -> str:
        return Truncator(generation.prompt).chars(60)

    @admin.display(description=_("parameters"))
    def params_pretty(self, generation: Generation) -> str:
        return format_html("<pre>{}</pre>", json.dumps(generation.params, indent=2, ensure_ascii=False))

    @admin.display(description=_("results"))
    def result_link(self, generation: Generation) -> str:
        return _files_html(generation.result_files(), preview=True)

    @admin.display(description=_("input images"))
    def input_images(self, generation: Generation) -> str:
        # Users' own photos: links, not previews shown to whoever opens the page.
        return _files_html(generation.image_files(), preview=False)

    has_cancel_generation_permission = staff_permission("generations.cancel_generation")
    has_refund_generation_permission = staff_permission("generations.refund_generation")

    @staff_action(permission="generations.cancel_generation",
                  description=_("Cancel and refund selected active generations"))
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


def _files_html(files: list[StoredFile], *, preview: bool) -> str:
    if not files:
        return "-"
    links = []
    for file in files:
        url = default_storage.url(file.name)
        if preview and file.content_type.startswith("image/"):
            links.append(format_html('<a href="{0}" target="_blank"><img src="{0}" style="max-height:240px"></a>',
                                     url))
        else:
            links.append(format_html('<a href="{}" target="_blank">{}</a>', url, file.name))
    return format_html_join(" ", "{}", ((link,) for link in links))


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin[Upload]):
    """Read-only: uploads are made by users and deleted by the sweeper when unused (a used
    one is a generation's input, kept as long as the generation)."""

    list_display = ["id", "created_at", "user", "content_type", "width", "height", "size", "used_at"]
    list_filter = ["content_type", ("used_at", admin.EmptyFieldListFilter)]
    search_fields = ["=id", "=user__telegram_id", "=sha256"]
    list_select_related = ["user"]
    show_full_result_count = False
    ordering = ["-created_at"]
    fields = ["id", "user", "file_link", "content_type", "width", "height", "size", "sha256", "created_at",
              "used_at"]
    readonly_fields = ["id", "user", "file_link", "content_type", "width", "height", "size", "sha256",
                       "created_at", "used_at"]

    @admin.display(description=_("file"))
    def file_link(self, upload: Upload) -> str:
        return _files_html([StoredFile(name=upload.file.name, content_type=upload.content_type)], preview=False)
