import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

# The most input images any catalog model may take in one generation.
IMAGES_MAX_PER_GENERATION = 10


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
    # A spec may say `"with_images": false`: the parameter is not used (not accepted,
    # no default) when the start has input images (the provider's image model lacks it).
    params_schema = models.JSONField(_("parameters"), default=dict, blank=True)

    # Input images: how many a start takes (0/0: text only), and the provider's model
    # that takes them (an edit or image-to-video model) when it is not the same one.
    images_min = models.PositiveSmallIntegerField(_("input images, at least"), default=0)
    images_max = models.PositiveSmallIntegerField(_("input images, at most"), default=0)
    provider_model_id_with_images = models.CharField(
        _("provider model id with input images"), max_length=128, blank=True
    )
    # An image-to-video model may animate a picture without being told how.
    prompt_optional_with_images = models.BooleanField(_("prompt optional with input images"), default=False)

    # What a generation costs and how long the provider may take, over its parameters
    # (generations.rules). With a price rule, `price` is the rule's figure for the
    # default parameters without images (what the catalog shows), kept by the admin.
    price_rule = models.JSONField(_("price rule"), default=dict, blank=True)
    timeout_rule = models.JSONField(_("timeout rule"), default=dict, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("AI model")
        verbose_name_plural = _("AI models")
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="aimodel_price_positive"),
            models.CheckConstraint(
                condition=Q(images_min__lte=F("images_max"), images_max__lte=IMAGES_MAX_PER_GENERATION),
                name="aimodel_images_range",
            ),
        ]

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

    # Input images, in the order the user gave them: [{"upload", "name", "content_type"}]
    # (`name` in the media storage). Copied from the uploads at start, so history
    # renders without a join; a used upload is never deleted.
    images = models.JSONField(_("input images"), default=list, db_default=models.Value([], models.JSONField()),
                              blank=True, editable=False)
    # Every result in order, [{"name", "content_type"}]; result_file is the first of them
    # (generations completed before several results existed have only result_file).
    results = models.JSONField(_("results"), default=list, db_default=models.Value([], models.JSONField()),
                               blank=True, editable=False)
    result_file = models.FileField(_("result file"), upload_to="generations/%Y/%m/%d/", blank=True)
    result_content_type = models.CharField(_("result content type"), max_length=64, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)

    provider_job_id = models.CharField(_("provider job id"), max_length=128, blank=True)
    # What the provider reported it charged for this generation (USD), when it says.
    provider_cost_usd = models.DecimalField(
        _("provider cost (USD)"), max_digits=12, decimal_places=6, null=True, blank=True, editable=False
    )
    # The X-Client-Request-Id of a create call whose answer never came (a timeout):
    # the job it may have started is looked up from `unconfirmed_since` on, before
    # anything is posted again, so one generation never makes two paid jobs.
    unconfirmed_request_id = models.CharField(
        _("unconfirmed provider request"), max_length=128, blank=True, default="", db_default=""
    )
    unconfirmed_since = models.DateTimeField(_("unconfirmed since"), null=True, blank=True, editable=False)
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

    def result_files(self) -> list["StoredFile"]:
        """Every stored result in order (one for generations older than several results)."""
        if self.results:
            return [StoredFile(name=item["name"], content_type=item["content_type"]) for item in self.results]
        if self.result_file:
            return [StoredFile(name=self.result_file.name, content_type=self.result_content_type)]
        return []

    def image_files(self) -> list["StoredFile"]:
        """The input images in the order the user gave them."""
        return [StoredFile(name=item["name"], content_type=item["content_type"]) for item in self.images]


@dataclass(frozen=True)
class StoredFile:
    """A file in the media storage (`default_storage`): a result or an input image."""

    name: str
    content_type: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "content_type": self.content_type}


class Upload(models.Model):
    """An image a user uploaded to edit or animate (POST /api/uploads).

    Stored re-encoded, without any metadata, under a name nobody can guess; the id is
    opaque (a random UUID) and only its owner may use it in a start. An upload no
    generation used is deleted after UPLOAD_KEEP_HOURS; a used one stays as long as
    the generations that show it (`used_at` marks it, in the start's transaction).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="uploads"
    )
    file = models.FileField(_("file"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=32)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("size in bytes"))
    # Of the stored bytes: the idempotency fingerprint of a start covers its images' content.
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    used_at = models.DateTimeField(_("first used"), null=True, blank=True)

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")
        ordering = ["-created_at"]
        indexes = [
            # The rate window: a user's uploads in the last minute.
            models.Index(fields=["user", "created_at"], name="upload_user_created"),
            # The sweeper reads only unused uploads, oldest first.
            models.Index(fields=["created_at"], condition=Q(used_at__isnull=True), name="upload_unused_created"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} ({self.content_type}, {self.width}x{self.height})"
