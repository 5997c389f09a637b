"""Staff pages of the bot: read-only. The notification log tells support whether a
user was sent their result (and why not); the status messages what the chat showed
of a generation started there; the Telegram updates show what arrived, and the failed
ones (handlers failed every attempt) can be retried once the cause is fixed. All are
written only by the bot and the worker."""

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.authentication import staff_user
from core.admin import ReadOnlyAdmin, staff_action, staff_permission
from core.task_names import UPDATE_PROCESS
from telegram_bot.hooks import task_enqueue
from telegram_bot.models import GenerationNotification, StatusMessage, TelegramUpdate


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


@admin.register(TelegramUpdate)
class TelegramUpdateAdmin(ReadOnlyAdmin[TelegramUpdate]):
    list_display = ["update_id", "kind", "telegram_user_id", "status", "attempts", "last_error", "received_at",
                    "processed_at"]
    list_filter = ["status", "kind", ("received_at", admin.DateFieldListFilter)]
    search_fields = ["=update_id", "=telegram_user_id"]
    date_hierarchy = "received_at"
    show_full_result_count = False  # the table is large and pruned; no COUNT(*) over it
    exclude = ["payload"]
    readonly_fields = ["payload_pretty"]
    actions = ["retry"]

    @admin.display(description=_("update (as received)"))
    def payload_pretty(self, update: TelegramUpdate) -> str:
        return format_html("<pre>{}</pre>", json.dumps(update.payload, indent=2, ensure_ascii=False))

    has_retry_telegramupdate_permission = staff_permission("telegram_bot.retry_telegramupdate")

    @staff_action(permission="telegram_bot.retry_telegramupdate", description=_("Process again (failed updates)"))
    def retry(self, request: HttpRequest, queryset: QuerySet[TelegramUpdate]) -> None:
        # Imported here: the bot's services bring python-telegram-bot (about 27 MiB), which
        # a web worker otherwise never needs.
        from telegram_bot import services

        retried = 0
        for update_id in queryset.values_list("update_id", flat=True):
            if services.update_retry(update_id=update_id, staff=staff_user(request)):
                task_enqueue(UPDATE_PROCESS, update_id=update_id)
                retried += 1
        skipped = queryset.count() - retried
        self.message_user(request, gettext("%(retried)d updates handed to the worker again.") % {"retried": retried})
        if skipped:
            self.message_user(request, gettext("%(skipped)d were not failed and were left alone.")
                              % {"skipped": skipped}, messages.WARNING)


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
# The broadcasts' pages (registered on import).
from telegram_bot.broadcasts import admin as broadcasts_admin  # noqa: E402, F401
