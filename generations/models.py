from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AIModel(models.Model):
    """One entry of the model catalog that users pick from in the Mini App."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("image")
        VIDEO = "video", _("video")

    class Provider(models.TextChoices):
        AIMLAPI = "aimlapi", "AIML API"
        DEMO = "demo", _("demo (offline)")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices, default=Provider.AIMLAPI)
    provider_model_id = models.CharField(_("provider model id"), max_length=128)
    price = models.PositiveIntegerField(_("price in credits"))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    description = models.TextField(_("description"), blank=True)
    # The parameters the model accepts beyond the prompt, as
    # {"name": {"type": "choice", "choices": [...], "default": ...}} or
    # {"name": {"type": "integer", "min": 1, "max": 10, "default": 5}}.
    params_schema = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("AI model")
        verbose_name_plural = _("AI models")
        ordering = ["sort_order", "id"]
        constraints = [models.CheckConstraint(condition=Q(price__gt=0), name="aimodel_price_positive")]

    def __str__(self) -> str:
        return self.name


class Generation(models.Model):
    """One paid request for an image or a video.

    pending -> processing -> completed | failed, and pending|processing -> cancelled.
    Every state change is a conditional UPDATE from the states it may leave (see
    `generations.services`), so a late result after a cancel or a timeout changes
    nothing; failed and cancelled generations are refunded exactly once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSING = "processing", _("processing")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    ACTIVE_STATUSES = (Status.PENDING, Status.PROCESSING)
    FINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)
    REFUNDED_STATUSES = (Status.FAILED, Status.CANCELLED)
    # States in which an idempotency key stays taken (after failed or cancelled it
    # may start a new generation).
    KEY_HOLDING_STATUSES = (Status.PENDING, Status.PROCESSING, Status.COMPLETED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="generations"
    )
    model = models.ForeignKey(AIModel, verbose_name=_("model"), on_delete=models.PROTECT, related_name="generations")
    # Copied from the model at start so history filters need no join and a later
    # catalog edit does not rewrite history.
    kind = models.CharField(_("kind"), max_length=8, choices=AIModel.Kind.choices)
    prompt = models.TextField(_("prompt"))
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)

    credits_charged = models.PositiveIntegerField(_("credits charged"), editable=False)
    refunded = models.BooleanField(_("refunded"), default=False, editable=False)

    # NULL, not "", means "no key", so keyless generations never collide in the unique constraint.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, null=True, blank=True)  # noqa: DJ001
    # Fingerprint of (model, prompt, params): a repeat of a key with another
    # payload is refused instead of being mistaken for the same intent.
    payload_hash = models.CharField(_("payload hash"), max_length=64, blank=True)

    result_file = models.FileField(_("result file"), upload_to="generations/%Y/%m/%d/", blank=True)
    result_content_type = models.CharField(_("result content type"), max_length=64, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)

    provider_job_id = models.CharField(_("provider job id"), max_length=128, blank=True)
    # Calls made to the provider to create the result (the first one and the retries).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When a worker should next look at this generation. While a worker runs a step
    # it is that worker's lease (a step cannot outlive the task timeout), so a
    # duplicate delivery leaves it alone and a killed worker's generation is taken
    # over once it has passed; between steps it is when the retry or the next poll
    # is due; for a pending generation, when the sweeper may re-enqueue it.
    next_check_at = models.DateTimeField(_("next check at"), null=True, blank=True, editable=False)
    timeout_at = models.DateTimeField(_("times out at"))

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("generation")
        verbose_name_plural = _("generations")
        ordering = ["-id"]
        permissions = [
            ("cancel_generation", _("Can cancel and refund active generations")),
            ("refund_generation", _("Can refund completed generations")),
        ]
        indexes = [
            # History, newest first (cursor pagination on -id).
            models.Index(fields=["user", "-id"], name="generation_user_recent"),
            # Rate window: a user's starts in the last minute.
            models.Index(fields=["user", "created_at"], name="generation_user_created"),
            # Active count and the sweeper touch only live rows, however large history grows.
            models.Index(
                fields=["user"], condition=Q(status__in=["pending", "processing"]), name="generation_user_active"
            ),
            models.Index(
                fields=["timeout_at"], condition=Q(status__in=["pending", "processing"]), name="generation_live_timeout"
            ),
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="generation_pending_created"),
            models.Index(
                fields=["next_check_at"], condition=Q(status="processing"), name="generation_processing_check"
            ),
            models.Index(fields=["status", "-id"], name="generation_status_recent"),
            # Metrics and the staff dashboard read windows of time: started in a
            # period (by day and status), ended in a period, and the oldest live ones.
            # The included columns let a period's aggregates read the index alone
            # (an index-only scan), not one heap page per generation.
            models.Index(
                fields=["created_at"],
                include=["status", "model", "kind", "started_at", "finished_at"],
                name="generation_created",
            ),
            models.Index(fields=["finished_at"], condition=Q(finished_at__isnull=False), name="generation_finished"),
            models.Index(
                fields=["created_at"], condition=Q(status__in=["pending", "processing"]), name="generation_live_created"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False, status__in=["pending", "processing", "completed"]),
                name="generation_idempotency_key_unique_live",
            ),
            models.CheckConstraint(
                condition=Q(refunded=False) | Q(status__in=["failed", "cancelled"]),
                name="generation_refunded_only_when_failed_or_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.model_id} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES
