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
    generates with (None: BOT_DEFAULT_MODEL), and the images waiting for the text that
    says what to do with them (a photo sent without a caption, a result's Edit button):
    the next text uses them, until `pending_until`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, primary_key=True,
        related_name="bot_chat",
    )
    model = models.ForeignKey(
        AIModel, verbose_name=_("model"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Upload ids, in order. `pending_kind` "image": edited with an image model (the Edit
    # button); "": with the user's model when it takes images. `pending_source` names
    # what set them ("album:<id>", "result:<generation>:<position>"), so a repeat of
    # the same update or tap sets nothing new.
    pending_images = models.JSONField(_("images waiting for a text"), default=list, blank=True,
                                      db_default=models.Value([], models.JSONField()))
    pending_kind = models.CharField(_("kind of model for them"), max_length=8, blank=True, default="",
                                    db_default="")
    pending_source = models.CharField(_("what set them"), max_length=64, blank=True, default="", db_default="")
    pending_until = models.DateTimeField(_("waiting until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bot chat")
        verbose_name_plural = _("bot chats")
        indexes = [
            # The sweep clears expired pending images; only chats that have some are indexed.
            models.Index(fields=["pending_until"], condition=models.Q(pending_until__isnull=False),
                         name="botchat_pending_until"),
        ]

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


class ChatAlbum(models.Model):
    """Photos a user sent the bot together, to edit or animate: one Telegram album
    (one media_group_id), or one photo alone (an album of one).

    An album's photos arrive as separate updates within about a second, possibly at
    the same time or in different processes. Each adds its `ChatAlbumPhoto` (one per
    message: a repeat adds nothing) under this row's lock and moves `due_at` to
    BOT_ALBUM_WAIT_SECONDS later. Once `due_at` has passed with no new photo, the
    worker's `album_finish` claims the album by a conditional UPDATE collecting ->
    fetching (with a lease) that exactly one caller wins; a photo added meanwhile
    moved `due_at`, so the claim waits for it. The worker then downloads the photos and
    starts ONE generation with all of them in order (one charge, keyed by the album),
    or asks what to do when no photo had a caption, or says why not. A photo that
    arrives after the claim is told it came too late.
    """

    class Status(models.TextChoices):
        COLLECTING = "collecting", _("collecting photos")
        FETCHING = "fetching", _("downloading the photos")
        STARTED = "started", _("generation started")
        ASKED = "asked", _("waiting for a text")
        REFUSED = "refused", _("refused")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    chat_id = models.BigIntegerField(_("chat id"))
    # The media_group_id, or "msg:<message id>" for a photo alone.
    group_key = models.CharField(_("group"), max_length=80)
    # Of the generation it starts: the album's (or the single photo's message), so one charge.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64)
    # The caption of the album: Telegram puts it on any one photo (the first one that has one wins).
    caption = models.TextField(_("caption"), blank=True)
    caption_message_id = models.BigIntegerField(_("caption's message id"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.COLLECTING)
    # Complete once this has passed with no new photo (a retry after a failed download is due then too).
    due_at = models.DateTimeField(_("complete at"))
    lease_until = models.DateTimeField(_("being fetched until"), null=True, blank=True)
    # Downloads that failed for a transient reason (Telegram or the storage unreachable).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    generation = models.ForeignKey(Generation, verbose_name=_("generation"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("album sent to the bot")
        verbose_name_plural = _("albums sent to the bot")
        constraints = [
            models.UniqueConstraint(fields=["chat_id", "group_key"], name="chat_album_once_per_group"),
        ]
        indexes = [
            # The sweep looks at unfinished albums only.
            models.Index(fields=["due_at"], condition=models.Q(status__in=["collecting", "fetching"]),
                         name="chat_album_unfinished"),
            models.Index(fields=["updated_at"], name="chat_album_updated"),
        ]

    def __str__(self) -> str:
        return f"album {self.group_key} of chat {self.chat_id}: {self.status}"


class ChatAlbumPhoto(models.Model):
    """One photo (or image sent as a file) of a `ChatAlbum`, in message order."""

    album = models.ForeignKey(ChatAlbum, verbose_name=_("album"), on_delete=models.CASCADE, related_name="photos")
    message_id = models.BigIntegerField(_("message id"))
    file_id = models.CharField(_("Telegram file id"), max_length=255)
    file_size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    # The upload made of it, once downloaded. Not a foreign key: uploads no generation
    # used are swept (UPLOAD_KEEP_HOURS), and this row may outlive them.
    upload_id = models.UUIDField(_("upload"), null=True, blank=True)
    # Why it cannot be used (the upload limits), as the user was told.
    refusal = models.CharField(_("refusal"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("photo of an album")
        verbose_name_plural = _("photos of albums")
        ordering = ["album", "message_id"]
        constraints = [
            models.UniqueConstraint(fields=["album", "message_id"], name="chat_album_photo_once"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} of {self.album_id}"


# Broadcasts live in a package of their own; their models belong to this app.
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery, SendBucket  # noqa: E402, F401
