"""Staff pages of broadcasts: compose a draft, see how many it reaches, send yourself
the preview, start, watch the progress, pause, resume, cancel. Every button calls a
service; deliveries are read-only."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.authentication import staff_user
from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from telegram_bot.broadcasts import selectors, services
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery

PHOTO_MAX_BYTES = 10 * 1024 * 1024
SEND_PERMISSION = "telegram_bot.send_broadcast"


def _formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    # An address typed without a scheme is https:// (Django 6's default, asked for now).
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class BroadcastForm(forms.ModelForm[Broadcast]):
    language = forms.ChoiceField(label=_("language"), required=False,
                                 choices=[("", _("all languages")), *settings.LANGUAGES],
                                 help_text=_("Only users who get the bot's texts in this language."))

    class Meta:
        model = Broadcast
        fields = services.DRAFT_FIELDS
        widgets = {"text": forms.Textarea(attrs={"rows": 10, "cols": 80})}
        formfield_callback = staticmethod(_formfield)

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and getattr(photo, "size", 0) > PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("Telegram takes photos up to 10 MB."))
        return photo

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The message as it would be saved, checked as Telegram will check it.
        probe = Broadcast(**{field: cleaned.get(field) for field in services.DRAFT_FIELDS if field != "photo"})
        photo = cleaned.get("photo")
        probe.photo = self.instance.photo if photo is None else (photo or None)
        probe.text = probe.text or ""
        for field, problems in services.broadcast_content_problems(probe).items():
            if field not in self.errors:
                self.add_error(field if field in self.fields else None, problems)
        return cleaned


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin[Broadcast]):
    form = BroadcastForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    change_form_template = "admin/telegram_bot/broadcast/change_form.html"
    list_display = ["title", "status", "audience", "language", "recipients", "created_at", "started_at",
                    "finished_at"]
    list_filter = ["status", "audience"]
    search_fields = ["title", "text"]
    fieldsets = [
        (_("Message"), {"fields": ["title", "text", "photo", "button_kind", "button_text", "button_url"]}),
        (_("Audience"), {"fields": ["audience", "active_days", "language", "recipients_now"]}),
        (_("Sending"), {"fields": ["status", "previewed_at", "previewed_by", "recipients", "started_by", "started_at",
                                   "finished_at", "last_error", "created_by", "created_at"]}),
    ]
    SENDING_FIELDS = ["recipients_now", "status", "previewed_at", "previewed_by", "recipients", "started_by",
                      "started_at", "finished_at", "last_error", "created_by", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Broadcast | None = None) -> list[str]:
        if obj is not None and obj.status != Broadcast.Status.DRAFT:
            return [*services.DRAFT_FIELDS, *self.SENDING_FIELDS]
        return self.SENDING_FIELDS

    def get_fieldsets(self, request: HttpRequest, obj: Broadcast | None = None) -> Any:
        if obj is None:
            return self.fieldsets[:2]
        return self.fieldsets

    @admin.display(description=_("recipients now"))
    def recipients_now(self, broadcast: Broadcast) -> str:
        if broadcast._state.adding:
            return "-"
        if broadcast.status != Broadcast.Status.DRAFT:
            return gettext("%(count)d (frozen when it started)") % {"count": broadcast.recipients}
        return str(selectors.broadcast_audience_count(broadcast=broadcast))

    def save_model(self, request: HttpRequest, obj: Broadcast, form: forms.ModelForm[Broadcast],
                   change: bool) -> None:
        staff = staff_user(request)
        if not services.broadcast_draft_save(broadcast=obj, changed_fields=form.changed_data, staff=staff):
            self.message_user(request, _("Not saved: the broadcast is no longer a draft."), messages.ERROR)

    def has_change_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        # Only a draft is edited; a started broadcast is shown as it went out (its buttons
        # below the progress still act on it).
        return super().has_change_permission(request, obj) and (obj is None or obj.status == Broadcast.Status.DRAFT)

    def has_delete_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        # A broadcast that went out is the record of who got what.
        return super().has_delete_permission(request, obj) and (obj is None or obj.status == Broadcast.Status.DRAFT)

    # --- the progress and the buttons ----------------------------------------------------------

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        broadcast = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if broadcast is not None:
            extra.update(
                broadcast=broadcast,
                progress=selectors.broadcast_progress(broadcast_id=broadcast.pk),
                audience_count=(selectors.broadcast_audience_count(broadcast=broadcast)
                                if broadcast.status == Broadcast.Status.DRAFT else broadcast.recipients),
                can_send=request.user.has_perm(SEND_PERMISSION),
                staff_telegram_id=staff_user(request).telegram_id,
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<path:object_id>/<str:action>/run/", self.admin_site.admin_view(self.action_view),
                 name="telegram_bot_broadcast_action"),
            *super().get_urls(),
        ]

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        return require_POST(self._action)(request, object_id, action)

    def _action(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        broadcast = get_object_or_404(Broadcast, pk=object_id)
        needs_send = action in ("start", "resume")
        if not self.has_change_permission(request) or (needs_send and not request.user.has_perm(SEND_PERMISSION)):
            raise PermissionDenied
        try:
            message = self._apply(request, broadcast, action)
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            if message:
                self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:telegram_bot_broadcast_change", args=[broadcast.pk]))

    def _apply(self, request: HttpRequest, broadcast: Broadcast, action: str) -> str:
        if action == "preview":
            services.broadcast_preview(broadcast=broadcast, staff=staff_user(request))
            return gettext("The preview is in your Telegram chat with the bot. Check it, then start sending.")
        if action == "start":
            count = services.broadcast_start(broadcast_id=broadcast.pk, staff=staff_user(request))
            return gettext("Sending to %(count)d users.") % {"count": count}
        changes: dict[str, Callable[..., bool]] = {
            "pause": services.broadcast_pause,
            "resume": services.broadcast_resume,
            "cancel": services.broadcast_cancel,
        }
        done = changes.get(action)
        if done is None:
            raise PermissionDenied
        if not done(broadcast_id=broadcast.pk):
            self.message_user(request, gettext("Nothing changed: the broadcast is %(status)s.")
                              % {"status": broadcast.get_status_display()}, messages.WARNING)
            return ""
        return {"pause": gettext("Paused."), "resume": gettext("Sending again."), "cancel": gettext("Cancelled.")}[
            action]


@admin.register(BroadcastDelivery)
class BroadcastDeliveryAdmin(ReadOnlyAdmin[BroadcastDelivery]):
    """Who got a broadcast, for support: read-only."""

    list_display = ["id", "broadcast", "user", "chat_id", "status", "error", "claimed_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["=chat_id", "=broadcast__id"]
    list_select_related = ["broadcast", "user"]
    raw_id_fields = ["broadcast", "user"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[BroadcastDelivery]:
        return super().get_queryset(request).order_by("-id")
