"""Staff pages of the bot: read-only. The notification log tells support whether a
user was sent their result (and why not); the status messages what the chat showed
of a generation started there; processed updates are there for debugging a repeat.
All are written only by the bot and the worker."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from telegram_bot.models import GenerationNotification, ProcessedUpdate, StatusMessage


@admin.register(GenerationNotification)
class GenerationNotificationAdmin(ReadOnlyAdmin[GenerationNotification]):
    list_display = ["generation", "user", "status", "method", "attempts", "detail", "created_at", "sent_at"]
    list_filter = ["status", "method", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=generation__id", "=generation__user__telegram_id", "generation__user__username"]
    list_select_related = ["generation__user"]
    date_hierarchy = "created_at"

    @admin.display(description=_("user"))
    def user(self, notification: GenerationNotification) -> str:
        return str(notification.generation.user)


@admin.register(ProcessedUpdate)
class ProcessedUpdateAdmin(ReadOnlyAdmin[ProcessedUpdate]):
    list_display = ["update_id", "created_at"]
    search_fields = ["=update_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # the table is large and pruned; no COUNT(*) over it


@admin.register(StatusMessage)
class StatusMessageAdmin(ReadOnlyAdmin[StatusMessage]):
    list_display = ["generation", "user", "shown", "message_id", "attempts", "editing_until", "updated_at"]
    list_filter = ["shown", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=generation__id", "=generation__user__telegram_id", "generation__user__username"]
    list_select_related = ["generation__user"]
    date_hierarchy = "created_at"

    @admin.display(description=_("user"))
    def user(self, status_message: StatusMessage) -> str:
        return str(status_message.generation.user)
