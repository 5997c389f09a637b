"""What the bot remembers: the updates Telegram sent it (stored before they are
acknowledged), the generations it has told their users about, and its chats with
users who generate in the chat."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from generations.models import AIModel, Generation


class TelegramUpdate(models.Model):
    """A Telegram update as it arrived (its raw JSON), stored before Telegram gets
    its 200 and processed from here, exactly once per update_id.

    Telegram delivers an update again until it gets a 2xx answer, and never after,
    so the webhook (and the polling loop, before it advances its offset) stores the
    update first: a crash or a database hiccup after that leaves the row here,
    never a lost payment. Whoever processes it (the bot at once, the worker later)
    first claims it with a conditional UPDATE pending -> processing that sets a
    lease; a repeat delivery, a second bot or the worker finds it claimed or
    processed and leaves it alone. A claim whose lease ran out (the process died
    mid-way) may be taken over. A failed attempt goes back to pending with a
    later `next_attempt_at`; after TELEGRAM_UPDATE_MAX_ATTEMPTS it is failed,
    for staff to look at and retry. Processed rows older than
    TELEGRAM_UPDATES_KEEP_DAYS are pruned: Telegram keeps an undelivered update for
    at most 24 hours, so a repeat can come no later.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be processed")
        PROCESSING = "processing", _("being processed")
        PROCESSED = "processed", _("processed")
        FAILED = "failed", _("failed: for staff")

    update_id = models.BigIntegerField(_("update id"), primary_key=True)
    # message, callback_query, successful_payment, refunded_payment...: for staff and the logs.
    kind = models.CharField(_("kind"), max_length=32, blank=True)
    telegram_user_id = models.BigIntegerField(_("Telegram user id"), null=True, blank=True)
    payload = models.JSONField(_("update (as received)"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When a pending update may be claimed (again); a claim holds it until `lease_until`.
    next_attempt_at = models.DateTimeField(_("next attempt"))
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # The last failure: the exception's class and message, never a stack trace or a secret.
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("Telegram update")
        verbose_name_plural = _("Telegram updates")
        ordering = ["-update_id"]
        permissions = [("retry_telegramupdate", _("Can retry failed Telegram updates"))]
        indexes = [
            # The worker's sweep reads only the unfinished rows, however many were processed.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status__in=["pending", "processing"]),
                name="telegramupdate_unfinished",
            ),
            models.Index(fields=["status", "-received_at"], name="telegramupdate_status_recent"),
            models.Index(fields=["received_at"], name="telegramupdate_received"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="processing") | models.Q(lease_until__isnull=False),
                name="telegramupdate_processing_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.update_id} ({self.kind or '?'}, {self.status})"


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
    # Messages of the notification already sent (an album, then its buttons): a retry
    # after a 429 in the middle goes on from there instead of sending them twice.
    parts_sent = models.PositiveSmallIntegerField(_("parts sent"), default=0)
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


class BotChat(models.Model):
    """A user's private chat with the bot, as a client: the model a text message
    generates with (None: BOT_DEFAULT_MODEL)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, primary_key=True,
        related_name="bot_chat",
    )
    model = models.ForeignKey(
        AIModel, verbose_name=_("model"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bot chat")
        verbose_name_plural = _("bot chats")

    def __str__(self) -> str:
        return f"chat of user {self.user_id}"


class StatusMessage(models.Model):
    """The bot's live message about a generation started in the chat, edited as the
    generation moves (queued, generating, done or failed).

    The bot sends it when the generation starts; the worker edits it (the bot process
    never sees the worker's state changes). `shown` is what the message says now: an
    edit happens only when the generation's stage differs from it, so there is at most
    one edit per change. An edit is made by the one task that set `editing_until` (a
    lease, by a conditional UPDATE), so two tasks never edit at once nor out of order;
    the holder looks again after its edit, so a change made meanwhile is shown too.
    """

    class Stage(models.TextChoices):
        QUEUED = "queued", _("queued")
        GENERATING = "generating", _("generating")
        DONE = "done", _("done")
        FAILED = "failed", _("failed and refunded")
        CANCELLED = "cancelled", _("cancelled and refunded")

    generation = models.OneToOneField(
        Generation, verbose_name=_("generation"), on_delete=models.CASCADE, primary_key=True,
        related_name="status_message",
    )
    chat_id = models.BigIntegerField(_("chat id"))
    # None until the bot's sendMessage has answered.
    message_id = models.BigIntegerField(_("message id"), null=True, blank=True)
    shown = models.CharField(_("shown"), max_length=16, choices=Stage.choices, default=Stage.QUEUED)
    editing_until = models.DateTimeField(_("being edited until"), null=True, blank=True)
    # Failed tries of the current edit (429, network): bounded by TELEGRAM_NOTIFY_MAX_ATTEMPTS.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("status message")
        verbose_name_plural = _("status messages")

    def __str__(self) -> str:
        return f"generation {self.generation_id}: {self.shown}"


class ResultMessage(models.Model):
    """A result the bot sent to its owner, with Telegram's file id of it: inline mode
    and sharing show the result again from that id, without uploading it again."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        VIDEO = "video", _("video")
        ANIMATION = "animation", _("animation")
        DOCUMENT = "document", _("document")

    generation = models.ForeignKey(
        Generation, verbose_name=_("generation"), on_delete=models.CASCADE, related_name="result_messages"
    )
    # The result's place among the generation's results (0 for the first).
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file_id = models.CharField(_("Telegram file id"), max_length=255)
    chat_id = models.BigIntegerField(_("chat id"))
    message_id = models.BigIntegerField(_("message id"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("result message")
        verbose_name_plural = _("result messages")
        ordering = ["generation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "position"], name="result_message_once_per_position"),
        ]

    def __str__(self) -> str:
        return f"generation {self.generation_id} #{self.position}: {self.kind}"
