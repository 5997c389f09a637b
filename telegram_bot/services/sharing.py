"""Showing a result outside the user's chat with the bot: a prepared message for the
Mini App's Share button (`savePreparedInlineMessage`, then `shareMessage` in the app)
and the answers of inline mode (`@bot words`).

Both show the result from the file id Telegram gave it when the bot sent it to its
owner (no upload again), with a "Make yours" button that opens the bot with the
sharer's referral code. A result Telegram does not hold yet (its notification was
never delivered) is shown from its public URL when there is one.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from telegram import (
    InlineQueryResult,
    InlineQueryResultArticle,
    InlineQueryResultCachedDocument,
    InlineQueryResultCachedGif,
    InlineQueryResultCachedPhoto,
    InlineQueryResultCachedVideo,
    InlineQueryResultGif,
    InlineQueryResultPhoto,
    InputTextMessageContent,
)

from accounts.models import User
from core.i18n import user_language
from core.telegram_api import TelegramApiError, bot_api_call
from generations.models import Generation
from generations.selectors import generation_get_for_user
from payments.selectors import referral_invite_link
from telegram_bot.chat import keyboards as chat_keyboards
from telegram_bot.chat import texts as chat_texts
from telegram_bot.errors import GenerationNotShareable, TelegramUnavailable
from telegram_bot.models import ResultMessage
from telegram_bot.selectors import SharedResult
from telegram_bot.sending import CAPTION_MAX_LENGTH, MESSAGE_MAX_LENGTH, telegram_length_cut
from telegram_bot.services.results import generation_result_files, result_public_url

logger = logging.getLogger(__name__)


def shared_inline_result(result: SharedResult, *, link: str | None) -> InlineQueryResult:
    """The result as an inline query result (call inside the sharer's language)."""
    caption = telegram_length_cut(result.prompt, CAPTION_MAX_LENGTH)
    title = chat_texts.inline_result_title(prompt=result.prompt)
    markup = chat_keyboards.make_yours_keyboard(link)
    common: dict[str, Any] = {"id": result.result_id, "caption": caption, "reply_markup": markup}
    if result.file_id:
        if result.kind == ResultMessage.Kind.PHOTO:
            return InlineQueryResultCachedPhoto(photo_file_id=result.file_id, **common)
        if result.kind == ResultMessage.Kind.VIDEO:
            return InlineQueryResultCachedVideo(video_file_id=result.file_id, title=title, **common)
        if result.kind == ResultMessage.Kind.ANIMATION:
            return InlineQueryResultCachedGif(gif_file_id=result.file_id, **common)
        return InlineQueryResultCachedDocument(document_file_id=result.file_id, title=title, **common)
    if result.kind == "image/gif":
        return InlineQueryResultGif(gif_url=result.url, thumbnail_url=result.url, **common)
    if result.kind.startswith("image/"):
        return InlineQueryResultPhoto(photo_url=result.url, thumbnail_url=result.url, **common)
    text = telegram_length_cut(f"{result.prompt}\n\n{result.url}", MESSAGE_MAX_LENGTH)
    return InlineQueryResultArticle(id=result.result_id, title=title, url=result.url, reply_markup=markup,
                                    input_message_content=InputTextMessageContent(text))


@dataclass(frozen=True)
class PreparedMessage:
    id: str
    expiration_date: int | None


def generation_share(*, user: User, generation_id: int) -> PreparedMessage:
    """A prepared message of the user's completed generation, for `shareMessage`.

    NotFound for anybody else's generation; GenerationNotShareable unless it is
    completed with a result Telegram can show; TelegramUnavailable when the Bot API
    does not answer.
    """
    generation = generation_get_for_user(user=user, generation_id=generation_id)
    if generation.status != Generation.Status.COMPLETED:
        raise GenerationNotShareable()
    result = _first_result(generation)
    if result is None:
        raise GenerationNotShareable()
    with translation.override(user_language(user.language_code)):
        inline_result = shared_inline_result(result, link=referral_invite_link(user=user))
    try:
        # A network call in the request: Telegram answers it at once, and the user is
        # waiting for the share sheet anyway.
        prepared = bot_api_call("savePreparedInlineMessage", {
            "user_id": user.telegram_id,
            "result": inline_result.to_dict(),
            "allow_user_chats": True,
            "allow_bot_chats": True,
            "allow_group_chats": True,
            "allow_channel_chats": True,
        })
    except TelegramApiError as exc:
        logger.warning("generation %s: no prepared message: %s", generation.pk, exc)
        raise TelegramUnavailable() from None
    logger.info("generation %s shared by user %s", generation.pk, user.pk)
    return PreparedMessage(id=str(prepared["id"]), expiration_date=prepared.get("expiration_date"))


def _first_result(generation: Generation) -> SharedResult | None:
    sent = ResultMessage.objects.filter(generation=generation, position=0).first()
    if sent is not None:
        return SharedResult(generation_id=generation.pk, position=0, prompt=generation.prompt, kind=sent.kind,
                            file_id=sent.file_id)
    files = generation_result_files(generation)
    # Only the address: Telegram fetches the file itself when the message is sent.
    url = result_public_url(files[0].storage_name) if files else None
    if url is None:
        return None
    return SharedResult(generation_id=generation.pk, position=0, prompt=generation.prompt,
                        kind=files[0].content_type, url=url)
