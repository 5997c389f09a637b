"""Results as the bot sends them.

One result goes as a photo, video, animation or document with the buttons under it
(Again and File; Edit and Animate too when it is a picture); several as an album
(`sendMediaGroup`, at most 10 a message; albums carry no buttons, so a short message
with the buttons follows, Edit and Animate numbered per picture). A file larger than the Bot
API server takes from a bot (50 MB in the cloud, 2000 MB for a self-hosted server
in --local mode) goes as a link to the stored result instead.
"""

import logging
import posixpath
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import translation

from core.i18n import user_language
from generations.models import Generation
from generations.services.result_uploads import UPLOAD_CONTENT_TYPES
from telegram_bot import keyboards, texts
from telegram_bot.chat import keyboards as chat_keyboards
from telegram_bot.chat import texts as chat_texts
from telegram_bot.sending import ALBUM_MAX_ITEMS, PHOTO_MAX_BYTES, Attachment, FileKind, Outgoing, upload_max_bytes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResultFile:
    storage_name: str
    content_type: str


def generation_result_files(generation: Generation) -> list[ResultFile]:
    """Every stored result of a completed generation, in order (`num_images` makes several)."""
    if generation.status != Generation.Status.COMPLETED:
        return []
    return [ResultFile(file.name, file.content_type) for file in generation.result_files() if file.name]


def result_public_url(storage_name: str) -> str | None:
    """Where anybody can download a stored result: the storage's own URL when it is
    absolute (S3-like), else MEDIA_URL on the Mini App's HTTPS origin; None without one."""
    url: str = default_storage.url(storage_name)
    if url.startswith("https://"):
        return url
    app_url = str(settings.MINI_APP_URL)
    if app_url.startswith("https://"):
        return urljoin(app_url, url)
    return None


def result_kind(content_type: str, size: int) -> FileKind:
    """How Telegram should show a result of this type and size."""
    if content_type == "image/gif":
        return "animation"  # the demo provider's "video" is an animated GIF
    if content_type.startswith("image/"):
        return "photo" if size <= PHOTO_MAX_BYTES else "document"
    if content_type.startswith("video/"):
        return "video"
    return "document"


def _sizes(files: list[ResultFile], generation_id: int) -> list[int] | None:
    """The files' sizes; None when one is gone from the media storage. Other storage
    errors (OSError: the storage is down) are raised, to be tried again later. Read
    through the storage, never a path: the worker may run on another machine than the
    one that stored the result."""
    try:
        return [default_storage.size(file.storage_name) for file in files]
    except FileNotFoundError:
        logger.error("generation %s: a result file is missing from the media storage", generation_id)
        return None


def result_messages(generation: Generation, *, chat_id: int) -> list[Outgoing]:
    """The messages that deliver a completed generation's results to `chat_id`."""
    files = generation_result_files(generation)
    with translation.override(user_language(generation.user.language_code)):
        sizes = _sizes(files, generation.pk) if files else None
        if not files or sizes is None:
            text = texts.generation_ready_in_app(prompt=generation.prompt)
            return [Outgoing(chat_id=chat_id, text=text, reply_markup=keyboards.open_app_keyboard())]
        if max(sizes) > upload_max_bytes():
            return [_links(generation, files, chat_id=chat_id)]
        attachments = tuple(
            Attachment(result_kind(file.content_type, size), file.storage_name,
                       posixpath.basename(file.storage_name))
            for file, size in zip(files, sizes, strict=True)
        )
        pictures = [index for index, file in enumerate(files) if file.content_type in UPLOAD_CONTENT_TYPES]
        if len(attachments) == 1:
            keyboard = chat_keyboards.result_keyboard(generation_id=generation.pk, position=0, pictures=pictures)
            return [Outgoing(chat_id=chat_id, text=generation.prompt, reply_markup=keyboard, attachments=attachments)]
        albums = [attachments[i:i + ALBUM_MAX_ITEMS] for i in range(0, len(attachments), ALBUM_MAX_ITEMS)]
        messages = [Outgoing(chat_id=chat_id, text=generation.prompt if i == 0 else "", attachments=album)
                    for i, album in enumerate(albums)]
        buttons = chat_keyboards.result_keyboard(generation_id=generation.pk, position=None, pictures=pictures)
        text = chat_texts.album_caption(count=len(attachments))
        if pictures:
            text = f"{text}\n{chat_texts.album_buttons_hint()}"
        messages.append(Outgoing(chat_id=chat_id, text=text, reply_markup=buttons))
        return messages


def _links(generation: Generation, files: list[ResultFile], *, chat_id: int) -> Outgoing:
    urls = [result_public_url(file.storage_name) for file in files]
    if not all(urls):
        text = texts.generation_ready_in_app(prompt=generation.prompt)
        return Outgoing(chat_id=chat_id, text=text, reply_markup=keyboards.open_app_keyboard())
    text = chat_texts.result_link(prompt=generation.prompt, url="\n".join(url for url in urls if url))
    position = 0 if len(files) == 1 else None
    keyboard = chat_keyboards.result_keyboard(generation_id=generation.pk, position=position)
    return Outgoing(chat_id=chat_id, text=text, reply_markup=keyboard)


def result_documents(generation: Generation, *, chat_id: int, position: int | None) -> list[Outgoing]:
    """The originals, uncompressed, as documents (the "File" button): the one at
    `position`, or all of them; a link for a file too large to upload."""
    files = generation_result_files(generation)
    if position is not None:
        files = files[position:position + 1]
    with translation.override(user_language(generation.user.language_code)):
        sizes = _sizes(files, generation.pk) if files else None
        if not files or sizes is None:
            return [Outgoing(chat_id=chat_id, text=chat_texts.result_unavailable())]
        messages = []
        for file, size in zip(files, sizes, strict=True):
            if size > upload_max_bytes():
                url = result_public_url(file.storage_name)
                text = (chat_texts.result_link(prompt=generation.prompt, url=url) if url
                        else texts.generation_ready_in_app(prompt=generation.prompt))
                messages.append(Outgoing(chat_id=chat_id, text=text))
            else:
                attachment = Attachment("document", file.storage_name, posixpath.basename(file.storage_name))
                messages.append(Outgoing(chat_id=chat_id, text="", attachments=(attachment,)))
        return messages
