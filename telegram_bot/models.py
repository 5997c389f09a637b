"""What the bot remembers: the updates it has handled and the generations it has
told their users about."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from generations.models import Generation


class ProcessedUpdate(models.Model):
    """A Telegram update the bot has taken on.

    Telegram delivers an update again until it gets a 2xx answer (and a webhook
    may see the same one twice around a restart). The row is inserted before any
    handler runs; the primary key makes a repeat fail that insert, so the repeat
    is dropped before it can have any effect. Rows older than
    TELEGRAM_PROCESSED_UPDATES_KEEP_DAYS are pruned: Telegram keeps an
    undelivered update for at most 24 hours.
    """

    update_id = models.BigIntegerField(_("update id"), primary_key=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("processed update")
        verbose_name_plural = _("processed updates")
        ordering = ["-update_id"]

    def __str__(self) -> str:
        return str(self.update_id)


class GenerationNotification(models.Model):
    """The message that tells a user about their finished generation: at most one.

    The notification task may be delivered more than once (the ORM broker is
    at-least-once, the lifecycle may enqueue it again). A task sends only after a
    conditional UPDATE pending -> sending on this row, which exactly one delivery
    wins; a retry goes back to pending with `next_attempt_at` and a scheduled task.
    It lives here rather than as a field on Generation because it is the bot's
    business, and generations must not know about the bot.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("not sent (nothing to say, or the user cannot be reached)")
        FAILED = "failed", _("failed")

    generation = models.OneToOneField(
        Generation, verbose_name=_("generation"), on_delete=models.CASCADE, primary_key=True,
        related_name="notification",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When a scheduled retry is due; deliveries of the task before then leave the row alone.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # sendPhoto, sendVideo, sendAnimation, sendDocument or sendMessage.
    method = models.CharField(_("Bot API method"), max_length=32, blank=True)
    telegram_message_id = models.BigIntegerField(_("Telegram message id"), null=True, blank=True)
    # Why it was skipped, or the last Telegram error; never secrets.
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("generation notification")
        verbose_name_plural = _("generation notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="notification_status_recent")]

    def __str__(self) -> str:
        return f"generation {self.generation_id}: {self.status}"


# Broadcasts live in a package of their own; their models belong to this app.
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery, SendBucket  # noqa: E402

__all__ = ["Broadcast", "BroadcastDelivery", "GenerationNotification", "ProcessedUpdate", "SendBucket"]
