"""What a broadcast says, checked as Telegram would, and its preview to the staff member.

A broadcast is sent only as it was previewed: editing its text, photo or button
clears the preview, and starting needs one. The preview uploads the photo once;
Telegram's file id of it is then sent to every recipient.
"""

import logging
import posixpath
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.telegram_api import TelegramApiError, bot_api_call
from telegram_bot.broadcasts.errors import BroadcastInvalid, PreviewFailed
from telegram_bot.broadcasts.html import CAPTION_MAX_LENGTH, MESSAGE_MAX_LENGTH, telegram_html_check
from telegram_bot.broadcasts.models import Broadcast

logger = logging.getLogger(__name__)

# The fields whose change makes a new preview necessary, and all that staff edit.
CONTENT_FIELDS = ["text", "photo", "button_kind", "button_text", "button_url"]
DRAFT_FIELDS = ["title", *CONTENT_FIELDS, "audience", "active_days", "language"]
PHOTO_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class BroadcastMessage:
    """The Bot API call of a broadcast without its chat: `payload` plus `chat_id` is one send."""

    method: str
    payload: dict[str, Any]


def broadcast_content_problems(broadcast: Broadcast) -> dict[str, list[str]]:
    """Why Telegram would refuse this message, by field (empty when it would take it)."""
    problems: dict[str, list[str]] = {}
    has_photo = bool(broadcast.photo) or bool(broadcast.photo_file_id)
    check = telegram_html_check(
        broadcast.text, limit=CAPTION_MAX_LENGTH if has_photo else MESSAGE_MAX_LENGTH, allow_empty=has_photo
    )
    if check.errors:
        problems["text"] = check.errors
    kind = broadcast.button_kind
    if kind and not broadcast.button_text.strip():
        problems["button_text"] = [_("The button needs a text.")]
    if kind == Broadcast.ButtonKind.URL and not broadcast.button_url.lower().startswith(("https://", "http://")):
        problems["button_url"] = [_("A link button needs an http(s) address.")]
    if kind == Broadcast.ButtonKind.MINI_APP and not _mini_app_url(broadcast).startswith("https://"):
        problems["button_url"] = [
            _("Telegram opens a Mini App only from an https:// address (set MINI_APP_URL or the link).")]
    if broadcast.audience == Broadcast.Audience.ACTIVE and not broadcast.active_days:
        problems["active_days"] = [_("Say how many days count as active.")]
    return problems


def broadcast_content_refusal(broadcast: Broadcast) -> BroadcastInvalid | None:
    """The content's problems as one error for staff, or None."""
    problems = broadcast_content_problems(broadcast)
    if not problems:
        return None
    return BroadcastInvalid(" ".join(message for messages in problems.values() for message in messages))


def _mini_app_url(broadcast: Broadcast) -> str:
    return broadcast.button_url or settings.MINI_APP_URL


def _reply_markup(broadcast: Broadcast) -> dict[str, Any] | None:
    if broadcast.button_kind == Broadcast.ButtonKind.URL:
        button: dict[str, Any] = {"text": broadcast.button_text, "url": broadcast.button_url}
    elif broadcast.button_kind == Broadcast.ButtonKind.MINI_APP:
        button = {"text": broadcast.button_text, "web_app": {"url": _mini_app_url(broadcast)}}
    else:
        return None
    return {"inline_keyboard": [[button]]}


def broadcast_message(broadcast: Broadcast, *, photo_upload: bool = False) -> BroadcastMessage:
    """The message every recipient gets: the photo by the file id the preview got, or,
    with `photo_upload`, a sendPhoto whose photo goes along as a file."""
    payload: dict[str, Any] = {"parse_mode": "HTML"}
    if broadcast.photo_file_id or photo_upload:
        method = "sendPhoto"
        if not photo_upload:
            payload["photo"] = broadcast.photo_file_id
        if broadcast.text.strip():
            payload["caption"] = broadcast.text
    else:
        method = "sendMessage"
        payload["text"] = broadcast.text
    markup = _reply_markup(broadcast)
    if markup is not None:
        payload["reply_markup"] = markup
    return BroadcastMessage(method=method, payload=payload)


def broadcast_draft_save(*, broadcast: Broadcast, changed_fields: list[str], staff: User) -> bool:
    """Create a draft, or write staff's edit of one. A changed text, photo or button
    needs a new preview (a new photo a new upload). False, writing nothing, when the
    broadcast is no longer a draft (somebody started it while the form was open).

    An edit is an UPDATE of the staff's fields only, conditional on the draft state:
    saving the whole row would write back the status and counters read when the form
    was opened.
    """
    if set(changed_fields) & set(CONTENT_FIELDS):
        broadcast.previewed_at = None
        broadcast.previewed_by = None
    if "photo" in changed_fields:
        broadcast.photo_file_id = ""
    if broadcast._state.adding:
        broadcast.created_by = staff
        broadcast.status = Broadcast.Status.DRAFT
        broadcast.save()
        return True
    # Stores a newly uploaded photo (what save() would do) before the UPDATE names it.
    Broadcast._meta.get_field("photo").pre_save(broadcast, add=False)
    values = {field: getattr(broadcast, field) for field in DRAFT_FIELDS}
    return bool(Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.DRAFT).update(
        **values, previewed_at=broadcast.previewed_at, previewed_by=broadcast.previewed_by,
        photo_file_id=broadcast.photo_file_id, updated_at=timezone.now(),
    ))


def broadcast_preview(*, broadcast: Broadcast, staff: User) -> None:
    """Send the draft to the staff member's own Telegram chat, as users will get it.

    Raises BroadcastInvalid (staff without a Telegram id, content Telegram would refuse)
    and PreviewFailed (Telegram's answer, for instance when the staff member never
    started the bot).
    """
    if broadcast.status != Broadcast.Status.DRAFT:
        raise BroadcastInvalid(_("Only a draft can be previewed."))
    if staff.telegram_id is None:
        raise BroadcastInvalid(_(
            "Your staff account has no Telegram id, so the preview has nowhere to go. Log in with the account "
            "of your own Telegram user (give it an email and a password under Users), or enter your Telegram id "
            "on your account; then send /start to the bot once so that it may write to you."
        ))
    refusal = broadcast_content_refusal(broadcast)
    if refusal is not None:
        raise refusal
    upload = bool(broadcast.photo) and not broadcast.photo_file_id
    message = broadcast_message(broadcast, photo_upload=upload)
    files = {"photo": _photo_file(broadcast)} if upload else None
    try:
        # A network call in the staff member's request, on purpose: they see at once
        # whether Telegram took the message (or why not).
        result = bot_api_call(message.method, {**message.payload, "chat_id": staff.telegram_id}, files=files)
    except TelegramApiError as exc:
        logger.warning("broadcast %s: preview refused: %s", broadcast.pk, exc)
        if exc.error_code == 403:
            raise PreviewFailed(_("Telegram refused: the bot cannot write to you. Open the bot and press Start, "
                                  "then try again.")) from exc
        raise PreviewFailed(_("Telegram refused the preview: %(reason)s") % {
            "reason": exc.description or _("no answer")}) from exc
    fields = {"previewed_at": timezone.now(), "previewed_by": staff}
    if files is not None:
        fields["photo_file_id"] = _largest_photo_id(result)
    Broadcast.objects.filter(pk=broadcast.pk).update(**fields)
    for field, value in fields.items():
        setattr(broadcast, field, value)
    logger.info("broadcast %s: preview sent to staff user %s", broadcast.pk, staff.pk)


def _photo_file(broadcast: Broadcast) -> tuple[str, bytes, str]:
    broadcast.photo.open("rb")
    try:
        data = broadcast.photo.read(PHOTO_MAX_BYTES + 1)
    finally:
        broadcast.photo.close()
    if len(data) > PHOTO_MAX_BYTES:
        raise BroadcastInvalid(_("The photo is larger than Telegram's 10 MB."))
    name = posixpath.basename(broadcast.photo.name)
    content_type = "image/png" if name.lower().endswith(".png") else "image/jpeg"
    return name, data, content_type


def _largest_photo_id(result: Any) -> str:
    sizes = result.get("photo") if isinstance(result, dict) else None
    if not sizes:
        raise PreviewFailed(_("Telegram's answer has no photo."))
    largest = max(sizes, key=lambda size: size.get("width", 0) * size.get("height", 0))
    return str(largest["file_id"])
