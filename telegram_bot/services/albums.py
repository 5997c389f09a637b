"""Photos sent to the bot: a photo (or an image sent as a file) with a caption is an
edit of it, an album makes ONE generation of all its photos (one charge), and photos
without a caption wait for the next text. `ChatAlbum` describes the collector.

The bot only records each photo (`album_photo_add`: Telegram's file id; nothing is
downloaded in the bot) and hands the complete album to the worker
(`telegram_bot.tasks.album_finish`): downloading up to ten photos and re-encoding them
under the upload limits (`upload_create_from_bytes`) is slow work that must not hold
up the bot. A photo alone is handed over as soon as it is committed; an album once
its `due_at` has passed, by a timer the bot runs next to its handlers. Should that
be lost (the bot stopped, or the worker processed the update), the minute sweep
(`chat_inputs_sweep`) hands over every album that is due, and every claim whose
worker died.

`album_finish` claims the album (one caller wins), downloads what is not downloaded
yet (each photo's upload is recorded at once, so a retry goes on from there; network
errors and 5xx are retried with backoff, at most TELEGRAM_NOTIFY_MAX_ATTEMPTS times),
then in one transaction starts the generation (or sets the images waiting for a text,
or refuses) and closes the album, and only then tells the user (outside any
transaction: a network call). Telegram is asked for nothing else: a reply lost to a
crash after the commit is not sent again (the result still comes).
"""

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from accounts.models import User
from accounts.services import user_set_reachable
from core.errors import DomainError
from core.i18n import user_language
from core.scheduling import backoff_seconds
from core.task_names import ALBUM_FINISH
from core.telegram_api import BotFileTooLarge, TelegramApiError, bot_file_download
from generations.errors import DuplicateRequest, UploadRateLimitExceeded
from generations.services import upload_create_from_bytes
from generations.services.uploads import upload_too_large
from telegram_bot import texts
from telegram_bot.chat import texts as chat_texts
from telegram_bot.chat.refusals import refusal_reply
from telegram_bot.errors import NoModelForImages
from telegram_bot.hooks import task_enqueue
from telegram_bot.models import ChatAlbum, ChatAlbumPhoto
from telegram_bot.selectors import input_model
from telegram_bot.sending import Outgoing, TelegramFailure, bot_send, telegram_error_classify
from telegram_bot.services.chat import chat_generation_start, chat_idempotency_key, status_message_sent
from telegram_bot.services.inputs import pending_images_set

logger = logging.getLogger(__name__)

Status = ChatAlbum.Status
FINISHED = (Status.STARTED, Status.ASKED, Status.REFUSED)
# A claim outlives the task that took it (Django-Q kills a task after Q_TIMEOUT), so
# a claim whose lease ran out belongs to a dead worker and may be taken over.
LEASE_MARGIN_SECONDS = 30
SWEEP_BATCH = 500


# --- the bot: one photo at a time ---------------------------------------------------------------


class PhotoAdded(enum.StrEnum):
    ADDED = "added"
    REPEAT = "repeat"  # this message's photo is in already: the update came or was processed again
    LATE = "late"  # its album was taken before it came


@dataclass(frozen=True)
class AlbumPhoto:
    album_id: int
    outcome: PhotoAdded
    # When the album is complete unless another photo comes (to hand it to the worker then).
    due_at: datetime


def album_photo_add(*, user: User, chat_id: int, message_id: int, media_group_id: str | None, file_id: str,
                    file_size: int | None, caption: str) -> AlbumPhoto:
    """Record a photo the user sent (in an album when `media_group_id`). A photo
    alone is handed to the worker on commit; an album's photo moves its due time."""
    now = timezone.now()
    if media_group_id:
        group_key, key = media_group_id[:80], chat_idempotency_key("album", chat_id, media_group_id)
        due = now + timedelta(seconds=settings.BOT_ALBUM_WAIT_SECONDS)
    else:
        group_key, key, due = f"msg:{message_id}", chat_idempotency_key("msg", chat_id, message_id), now
    with transaction.atomic():
        # The album's first photo creates it; photos racing it wait for that insert
        # (ON CONFLICT), then each for the row's lock: they are added one at a time.
        ChatAlbum.objects.bulk_create(
            [ChatAlbum(user=user, chat_id=chat_id, group_key=group_key, idempotency_key=key, due_at=due)],
            ignore_conflicts=True,
        )
        album = ChatAlbum.objects.select_for_update().get(chat_id=chat_id, group_key=group_key)
        if ChatAlbumPhoto.objects.filter(album=album, message_id=message_id).exists():
            return AlbumPhoto(album.pk, PhotoAdded.REPEAT, album.due_at)
        if album.status != Status.COLLECTING:
            return AlbumPhoto(album.pk, PhotoAdded.LATE, album.due_at)
        ChatAlbumPhoto.objects.create(album=album, message_id=message_id, file_id=file_id, file_size=file_size)
        changes: dict[str, object] = {"due_at": max(album.due_at, due), "updated_at": now}
        caption = caption.strip()
        if caption and (album.caption_message_id is None or message_id < album.caption_message_id):
            changes.update(caption=caption, caption_message_id=message_id)
        ChatAlbum.objects.filter(pk=album.pk).update(**changes)
        if not media_group_id:
            album_id = album.pk
            transaction.on_commit(lambda: album_finish_enqueue(album_id=album_id))
    return AlbumPhoto(album.pk, PhotoAdded.ADDED, max(album.due_at, due))


def album_finish_enqueue(*, album_id: int) -> bool:
    return task_enqueue(ALBUM_FINISH, album_id=album_id)


# --- the worker: the complete album ---------------------------------------------------------------


class AlbumOutcome(enum.StrEnum):
    STARTED = "started"
    ASKED = "asked"  # no caption: the photos wait for the next text
    REFUSED = "refused"
    DUPLICATE = "duplicate"  # its generation had started already (nothing charged again)
    WAITING = "waiting"  # not complete yet: a photo came after this task was enqueued
    NOT_MINE = "not_mine"  # another task has it, or it is finished
    RETRY_LATER = "retry_later"


class _FetchFailed(Exception):
    """Telegram or the media storage did not answer: the album is tried again later."""


@dataclass(frozen=True)
class _Decision:
    outcome: AlbumOutcome
    text: str = ""
    keyboard: InlineKeyboardMarkup | None = None
    generation_id: int | None = None


def album_finish(*, album_id: int) -> AlbumOutcome:
    """Download a complete album's photos and start its generation, once (see the module docstring)."""
    lease = _claim(album_id)
    if lease is None:
        waiting = ChatAlbum.objects.filter(pk=album_id, status=Status.COLLECTING).exists()
        return AlbumOutcome.WAITING if waiting else AlbumOutcome.NOT_MINE
    album = ChatAlbum.objects.select_related("user").get(pk=album_id)
    with translation.override(user_language(album.user.language_code)):
        if album.user.is_banned:
            decision = _close(album, lease, status=Status.REFUSED, text=texts.banned())
        else:
            try:
                photos = _photos_fetch(album)
            except _FetchFailed as exc:
                decision = _retry_later(album, lease, detail=str(exc))
            else:
                decision = _decide(album, photos, lease=lease)
    if decision.text:
        _reply(album, decision)
    logger.info("album %s of user %s: %s", album.pk, album.user_id, decision.outcome)
    return decision.outcome


def _claim(album_id: int) -> datetime | None:
    """collecting (and due) -> fetching for exactly one caller, or a dead worker's claim
    taken over; the lease, or None. An album a photo is being added to is locked: the
    UPDATE waits for it and then finds `due_at` moved on."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.Q_CLUSTER["timeout"] + LEASE_MARGIN_SECONDS)
    claimable = Q(status=Status.COLLECTING, due_at__lte=now) | Q(status=Status.FETCHING, lease_until__lt=now)
    claimed = ChatAlbum.objects.filter(claimable, pk=album_id).update(
        status=Status.FETCHING, lease_until=lease, updated_at=now
    )
    return lease if claimed else None


def _close(album: ChatAlbum, lease: datetime, *, status: ChatAlbum.Status, text: str = "",
           keyboard: InlineKeyboardMarkup | None = None, generation_id: int | None = None) -> _Decision:
    """fetching -> `status` if this task still holds the claim (inside the caller's
    transaction, when it has one); the decision to tell the user, or NOT_MINE."""
    closed = ChatAlbum.objects.filter(pk=album.pk, status=Status.FETCHING, lease_until=lease).update(
        status=status, lease_until=None, generation_id=generation_id, updated_at=timezone.now()
    )
    if not closed:
        return _Decision(AlbumOutcome.NOT_MINE)
    outcome = {Status.STARTED: AlbumOutcome.STARTED, Status.ASKED: AlbumOutcome.ASKED}.get(status, AlbumOutcome.REFUSED)
    return _Decision(outcome, text=text, keyboard=keyboard, generation_id=generation_id)


def _photos_fetch(album: ChatAlbum) -> list[ChatAlbumPhoto]:
    """The album's photos in order, each downloaded into an upload of the user (or
    refused by the upload limits); stops at the first refused one."""
    photos = list(ChatAlbumPhoto.objects.filter(album=album).order_by("message_id"))
    for photo in photos:
        if photo.upload_id is None and not photo.refusal:
            photo.upload_id, photo.refusal = _photo_fetch(album.user, photo)
            # At once: a retry after a later photo's failure does not download this one again.
            ChatAlbumPhoto.objects.filter(pk=photo.pk).update(upload_id=photo.upload_id, refusal=photo.refusal)
        if photo.refusal:
            break
    return photos


def _photo_fetch(user: User, photo: ChatAlbumPhoto) -> tuple[UUID | None, str]:
    """(the upload, "") or (None, why it cannot be used); raises _FetchFailed."""
    too_large = str(upload_too_large().message)
    if photo.file_size is not None and photo.file_size > settings.UPLOAD_MAX_BYTES:
        return None, too_large  # known from the update: not even downloaded
    try:
        data = bot_file_download(photo.file_id, max_bytes=settings.UPLOAD_MAX_BYTES)
    except BotFileTooLarge:
        return None, too_large
    except TelegramApiError as exc:
        error = telegram_error_classify(exc)
        if error.failure == TelegramFailure.TRANSIENT:
            raise _FetchFailed(error.detail) from None
        if exc.has_description("file is too big"):  # the cloud Bot API's 20 MB download limit
            return None, too_large
        logger.warning("album %s: message %s's file not given: %s", photo.album_id, photo.message_id, exc)
        return None, chat_texts.photo_unavailable()
    try:
        upload = upload_create_from_bytes(user=user, data=data)
    except UploadRateLimitExceeded as exc:
        seconds = int((exc.details or {}).get("retry_after", 60))
        return None, chat_texts.uploads_rate_limited(seconds=seconds)
    except DomainError as exc:  # not a JPEG, PNG or WebP, too many pixels, banned meanwhile
        return None, str(exc.message)
    except OSError as exc:  # the media storage did not answer
        raise _FetchFailed(f"media storage: {exc}") from None
    return upload.pk, ""


def _decide(album: ChatAlbum, photos: list[ChatAlbumPhoto], *, lease: datetime) -> _Decision:
    """Start the generation, or let the photos wait for a text, or refuse; the album
    closes in the same transaction."""
    count = len(photos)
    refused = next((number for number, photo in enumerate(photos, start=1) if photo.refusal), None)
    if refused is not None:
        text = chat_texts.photo_refused(reason=photos[refused - 1].refusal, number=refused, count=count)
        return _close(album, lease, status=Status.REFUSED, text=text)
    user = album.user
    model = input_model(user=user)
    if model is None or count > model.images_max:
        text = (chat_texts.too_many_photos(model_name=model.name, maximum=model.images_max, count=count) if model
                else str(NoModelForImages().message))
        return _close(album, lease, status=Status.REFUSED, text=text)
    images = [str(photo.upload_id) for photo in photos]
    if not album.caption:
        with transaction.atomic():
            decision = _close(album, lease, status=Status.ASKED, text=chat_texts.photo_question(count=count))
            if decision.outcome == AlbumOutcome.ASKED:
                pending_images_set(user=user, images=images, source=f"album:{album.pk}")
        return decision
    try:
        with transaction.atomic():
            started = chat_generation_start(user=user, chat_id=album.chat_id, prompt=album.caption,
                                            model_slug=model.slug, images=images,
                                            idempotency_key=album.idempotency_key)
            decision = _close(album, lease, status=Status.STARTED, text=started.status_text,
                              generation_id=started.generation_id)
            if decision.outcome != AlbumOutcome.STARTED:
                transaction.set_rollback(True)  # another task holds the album now: it starts it
        return decision
    except DuplicateRequest as exc:
        # Started before (a claim taken over after the commit): nothing charged again, nothing said.
        _close(album, lease, status=Status.STARTED, generation_id=exc.generation.pk)
        return _Decision(AlbumOutcome.DUPLICATE)
    except DomainError as exc:  # credits, limits, a model gone, banned
        text, keyboard = refusal_reply(exc)
        return _close(album, lease, status=Status.REFUSED, text=text, keyboard=keyboard)


def _retry_later(album: ChatAlbum, lease: datetime, *, detail: str) -> _Decision:
    attempts = album.attempts + 1
    if attempts >= settings.TELEGRAM_NOTIFY_MAX_ATTEMPTS:
        logger.error("album %s: photos not downloaded after %s tries: %s", album.pk, attempts, detail)
        return _close(album, lease, status=Status.REFUSED, text=chat_texts.photos_not_received())
    delay = backoff_seconds(attempt=attempts, base=settings.TELEGRAM_NOTIFY_RETRY_BASE_SECONDS,
                            maximum=settings.TELEGRAM_NOTIFY_RETRY_MAX_SECONDS)
    # Back to collecting, due later: the sweep hands it to a worker again then.
    ChatAlbum.objects.filter(pk=album.pk, status=Status.FETCHING, lease_until=lease).update(
        status=Status.COLLECTING, lease_until=None, attempts=attempts,
        due_at=timezone.now() + timedelta(seconds=delay), updated_at=timezone.now(),
    )
    logger.warning("album %s: photos not downloaded (try %s), again in %ss: %s", album.pk, attempts, delay, detail)
    return _Decision(AlbumOutcome.RETRY_LATER)


def _reply(album: ChatAlbum, decision: _Decision) -> None:
    """Tell the user (after the commit; a failure is logged: the generation, if any, runs anyway)."""
    try:
        sent = bot_send(Outgoing(chat_id=album.chat_id, text=decision.text, reply_markup=decision.keyboard))
    except TelegramError as exc:
        error = telegram_error_classify(exc)
        if error.failure == TelegramFailure.UNREACHABLE:
            user_set_reachable(user_id=album.user_id, reachable=False)
        logger.warning("album %s: the answer was not sent: %s", album.pk, error.detail)
        return
    if decision.generation_id is not None:
        status_message_sent(generation_id=decision.generation_id, message_id=sent.message_id)


# --- the sweep -------------------------------------------------------------------------------------


def albums_due(*, now: datetime | None = None) -> list[int]:
    """Albums to hand to a worker: complete (or due for a retry) and not taken, or
    taken by a worker that died."""
    now = now or timezone.now()
    due = Q(status=Status.COLLECTING, due_at__lte=now) | Q(status=Status.FETCHING, lease_until__lt=now)
    return list(ChatAlbum.objects.filter(due).order_by("due_at").values_list("pk", flat=True)[:SWEEP_BATCH])


def albums_prune(*, now: datetime | None = None) -> int:
    """Forget finished albums after TELEGRAM_UPDATES_KEEP_DAYS (until then a repeat of
    one of their photos is recognised)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TELEGRAM_UPDATES_KEEP_DAYS)
    old = ChatAlbum.objects.filter(status__in=FINISHED, updated_at__lt=cutoff)
    ids = list(old.values_list("pk", flat=True)[:SWEEP_BATCH])
    ChatAlbum.objects.filter(pk__in=ids).delete()  # their photos with them
    return len(ids)
