"""Inline mode: `@bot words` in any chat lists the asking user's own completed
results whose prompt has those words, to send into that chat. The answer is
personal (Telegram caches it for that user only, briefly) and paged with
`next_offset`; a user with no results gets a button that opens the bot."""

from django.conf import settings
from telegram import InlineQueryResultsButton, Update

from telegram_bot import selectors
from telegram_bot.chat import texts as chat_texts
from telegram_bot.handler_helpers import Context, in_language, present
from telegram_bot.orm import db
from telegram_bot.services.sharing import shared_inline_result

# Telegram's limit on the offset a client sends back.
OFFSET_MAX_DIGITS = 9


async def inline_query(update: Update, context: Context) -> None:
    query = present(update.inline_query, "inline query")
    offset = int(query.offset) if query.offset.isdigit() and len(query.offset) <= OFFSET_MAX_DIGITS else 0
    page = await db(selectors.inline_results)(telegram_id=query.from_user.id, query=query.query, offset=offset,
                                              limit=settings.BOT_INLINE_PAGE_SIZE)
    with in_language(query.from_user.language_code):
        results = [shared_inline_result(result, link=page.link) for result in page.results]
        # Only on the first page: a button that opens the bot to make something new.
        button = InlineQueryResultsButton(text=chat_texts.inline_open_bot(), start_parameter="inline") if not offset \
            else None
    await query.answer(results, cache_time=settings.BOT_INLINE_CACHE_SECONDS, is_personal=True,
                       next_offset=page.next_offset, button=button)
