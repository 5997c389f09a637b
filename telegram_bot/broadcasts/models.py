"""Broadcasts: one message that staff send to many users, and one delivery row per recipient.

draft (edited, previewed) -> sending <-> paused -> completed; any but completed -> cancelled.

Starting a broadcast freezes its audience: one INSERT ... SELECT makes a `pending`
delivery per recipient (never a list in memory). A worker sends a delivery only after
a conditional UPDATE pending -> sending has claimed it; a worker killed after the
claim leaves it `sending`, and it is never sent again (Telegram may already have
delivered it): each recipient gets the broadcast at most once. `SendBucket` is the
token bucket every worker draws from, so that all of them together stay within
Telegram's limit.
"""

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Broadcast(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SENDING = "sending", _("sending")
        PAUSED = "paused", _("paused")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("everyone")
        ACTIVE = "active", _("active in the last N days")
        PAID = "paid", _("paid at least once")
        NEVER_PAID = "never_paid", _("never paid")

    class ButtonKind(models.TextChoices):
        NONE = "", _("no button")
        URL = "url", _("link")
        MINI_APP = "mini_app", _("opens the Mini App")

    title = models.CharField(_("title"), max_length=100, help_text=_("For staff only; users never see it."))
    text = models.TextField(
        _("text"), blank=True,
        help_text=_("Telegram HTML: <b>, <i>, <u>, <s>, <tg-spoiler>, <a href>, <code>, <pre>, <blockquote>; "
                    "write &lt; &gt; &amp; for < > &. At most 4096 characters, 1024 under a photo."),
    )
    photo = models.ImageField(_("photo"), upload_to="broadcasts/", blank=True,
                              validators=[FileExtensionValidator(["jpg", "jpeg", "png"])],
                              help_text=_("JPEG or PNG up to 10 MB; the text becomes its caption."))
    button_kind = models.CharField(_("button"), max_length=16, choices=ButtonKind.choices, blank=True, default="")
    button_text = models.CharField(_("button text"), max_length=64, blank=True)
    button_url = models.URLField(_("button link"), max_length=1024, blank=True,
                                 help_text=_("For a link button; a Mini App button opens MINI_APP_URL when empty."))

    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices, default=Audience.EVERYONE)
    active_days = models.PositiveSmallIntegerField(_("active in the last days"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True,
                                help_text=_("Only users who get the bot's texts in this language; empty: all."))

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Telegram's id of the photo once the preview uploaded it: every recipient gets that
    # file, the bytes go up once.
    photo_file_id = models.CharField(_("Telegram file id of the photo"), max_length=255, blank=True, editable=False)
    previewed_at = models.DateTimeField(_("preview sent"), null=True, blank=True, editable=False)
    previewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("preview sent to"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+", editable=False)
    recipients = models.PositiveIntegerField(_("recipients"), default=0, editable=False)
    # The worker that sends it holds this lease; a dead worker's lease runs out and the
    # resume schedule hands the broadcast to another.
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True, editable=False)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=255, blank=True, editable=False)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        ordering = ["-id"]
        permissions = [("send_broadcast", _("Can send broadcasts to users"))]
        indexes = [models.Index(fields=["status"], condition=Q(status="sending"), name="broadcast_sending")]
        constraints = [
            models.CheckConstraint(condition=~Q(audience="active") | Q(active_days__gt=0),
                                   name="broadcast_active_has_days"),
        ]

    def __str__(self) -> str:
        return self.title


class BroadcastDelivery(models.Model):
    """The broadcast's message to one user. `chat_id` is the user's Telegram id, copied
    when the audience is frozen, so sending needs no join."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        BLOCKED = "blocked", _("blocked the bot")

    broadcast = models.ForeignKey(Broadcast, verbose_name=_("broadcast"), on_delete=models.CASCADE,
                                  related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    chat_id = models.BigIntegerField(_("chat"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # Tries that failed without reaching Telegram (network, 5xx); 429 does not count.
    attempts = models.PositiveSmallIntegerField(_("failed tries"), default=0)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    telegram_message_id = models.BigIntegerField(_("Telegram message id"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("broadcast delivery")
        verbose_name_plural = _("broadcast deliveries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "user"], name="broadcastdelivery_once_per_user"),
        ]
        indexes = [
            # The progress counts (index-only) and the claims of the next pending ones in id order.
            models.Index(fields=["broadcast", "status"], name="broadcastdelivery_progress"),
            models.Index(fields=["broadcast", "id"], condition=Q(status="pending"), name="broadcastdelivery_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id} -> {self.chat_id}: {self.status}"


class SendBucket(models.Model):
    """A token bucket shared by every worker (one row per name): `tokens` refill at the
    configured rate up to a small burst, a send takes one, and a 429 from Telegram
    empties it until `paused_until`. Times are the database's, so the clocks of the
    workers' machines do not matter."""

    name = models.CharField(max_length=32, primary_key=True)
    tokens = models.FloatField(default=0)
    refilled_at = models.DateTimeField()
    paused_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("send rate bucket")
        verbose_name_plural = _("send rate buckets")

    def __str__(self) -> str:
        return self.name
