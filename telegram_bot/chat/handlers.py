"""Handlers of the bot as a client: a text message starts a generation, /model
picks the model, the buttons under results act on them (photos: `chat.photos`). They parse the update, call
a service through `db` and answer in the user's language; they work the same however
the update arrives (webhook, polling, a stored update processed later).

Every callback query is answered, once, whatever happens (`_answer`).
"""

import contextlib
import logging
from collections.abc import Callable

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, InlineQueryHandler, MessageHandler, filters

from accounts.models import User
from core.errors import DomainError, NotFound
from generations.errors import DuplicateRequest, ModelUnavailable
from generations.models import Generation
from telegram_bot import selectors, services, texts
from telegram_bot.chat import keyboards
from telegram_bot.chat import texts as chat_texts
from telegram_bot.chat.inline import inline_query
from telegram_bot.chat.photos import photo_handlers_register
from telegram_bot.chat.refusals import refusal_reply
from telegram_bot.errors import ButtonNotYours
from telegram_bot.handler_helpers import PRIVATE, BotApplication, Context, in_language, present, telegram_user_from
from telegram_bot.orm import db

logger = logging.getLogger(__name__)


# --- generating -----------------------------------------------------------------------------


async def generate_from_text(update: Update, context: Context) -> None:
    """A text message that is not a command: a generation with the user's bot model, or
    with the images waiting in the chat (a photo sent without a caption, Edit under a
    result); keyed by the chat and message, so the same update delivered again charges once."""
    message = present(update.effective_message, "message")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    chat_id = message.chat_id

    def start() -> services.ChatStart:
        return services.chat_text_start(user=user, chat_id=chat_id, message_id=message.message_id,
                                        text=message.text or "")

    await _start_in_chat(context, user=user, chat_id=chat_id, start=start)


async def _start_in_chat(context: Context, *, user: User, chat_id: int,
                         start: Callable[[], services.ChatStart]) -> str:
    """Run `start` and say how it went: the status message (the worker edits it from
    then on) or the refusal with its way out. Returns "started", "duplicate" or "refused"."""
    with in_language(user.language_code):
        if user.is_banned:
            await context.bot.send_message(chat_id, texts.banned())
            return "refused"
    try:
        # In the user's language: the messages a refusal carries are translated as it is raised.
        with in_language(user.language_code):
            started = await db(start)()
    except DuplicateRequest as exc:
        # Delivered again, or a second tap: that start is under way, its messages too.
        logger.info("repeat of the start of generation %s: nothing started", exc.generation.pk)
        return "duplicate"
    except DomainError as exc:
        with in_language(user.language_code):
            text, keyboard = refusal_reply(exc)
        await context.bot.send_message(chat_id, text, reply_markup=keyboard)
        return "refused"
    try:
        sent = await context.bot.send_message(chat_id, started.status_text)
    except TelegramError as exc:
        # The generation runs anyway and its result is sent; only the live status is lost.
        logger.warning("generation %s: status message not sent: %s", started.generation_id, exc)
        return "started"
    await db(services.status_message_sent)(generation_id=started.generation_id, message_id=sent.message_id)
    return "started"


# --- /model ---------------------------------------------------------------------------------------


async def model_command(update: Update, context: Context) -> None:
    message = present(update.effective_message, "message")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    if user.is_banned:
        with in_language(user.language_code):
            await message.reply_text(texts.banned())
        return
    text, keyboard = await _model_menu(user)
    await message.reply_text(text, reply_markup=keyboard)


async def _model_menu(user: User) -> tuple[str, InlineKeyboardMarkup | None]:
    current, choices = await db(selectors.bot_model_choices)(user=user)
    with in_language(user.language_code):
        if not choices:
            return chat_texts.no_model(), None
        buttons = [(c.id, chat_texts.model_button(name=c.name, price=c.price, chosen=c.chosen)) for c in choices]
        return chat_texts.model_menu(current=current), keyboards.model_keyboard(buttons)


async def model_button(update: Update, context: Context) -> None:
    query = present(update.callback_query, "callback query")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(query.from_user))
    model_id = keyboards.model_id_from(query.data or "")
    try:
        if model_id is None:
            raise ModelUnavailable()
        model = await db(services.bot_model_set)(user=user, model_id=model_id)
    except ModelUnavailable:
        with in_language(user.language_code):
            await _answer(query, chat_texts.model_unavailable(), alert=True)
        return
    with in_language(user.language_code):
        await _answer(query, chat_texts.model_chosen(name=model.name))
    if query.message is not None:
        text, keyboard = await _model_menu(user)
        with contextlib.suppress(BadRequest):  # "not modified": the same model chosen again
            await query.edit_message_text(text, reply_markup=keyboard)


# --- the buttons under results ----------------------------------------------------------------


async def result_button(update: Update, context: Context) -> None:
    query = present(update.callback_query, "callback query")
    button = keyboards.ResultButton.parse(query.data or "")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(query.from_user))
    if button is None:
        await _answer(query)
        return
    if user.is_banned:
        with in_language(user.language_code):
            await _answer(query, texts.banned(), alert=True)
        return
    try:
        generation = await db(selectors.button_generation)(user=user, generation_id=button.generation_id)
    except NotFound:
        with in_language(user.language_code):
            await _answer(query, chat_texts.generation_gone(), alert=True)
        return
    except ButtonNotYours:
        with in_language(user.language_code):
            await _answer(query, chat_texts.not_yours(), alert=True)
        return
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    # Taps are told apart by the message and the button, not by the callback id: a
    # double tap (two callback queries) is one intent.
    origin = message.message_id if message is not None else query.inline_message_id
    key = services.chat_idempotency_key("cb", chat_id, origin, query.data)

    if button.action == keyboards.ResultAction.FILE:
        await db(services.result_files_request)(tap_key=key, generation_id=generation.pk, chat_id=chat_id,
                                                 position=button.position)
        await _answer(query)
        return
    if button.action == keyboards.ResultAction.EDIT:
        await _edit_requested(query, context, user=user, generation=generation, chat_id=chat_id,
                              position=button.position or 0)
        return

    def start() -> services.ChatStart:
        if button.action == keyboards.ResultAction.ANIMATE:
            return services.chat_generation_animate(generation=generation, position=button.position or 0,
                                                    chat_id=chat_id, idempotency_key=key)
        return services.chat_generation_again(generation=generation, chat_id=chat_id, idempotency_key=key)

    outcome = await _start_in_chat(context, user=user, chat_id=chat_id, start=start)
    with in_language(user.language_code):
        text = {"started": chat_texts.started(), "duplicate": chat_texts.already_started()}.get(outcome)
    await _answer(query, text)


async def _edit_requested(query: CallbackQuery, context: Context, *, user: User, generation: Generation,
                          chat_id: int, position: int) -> None:
    """Edit: the result waits for the user's next text (asked once, however often tapped)."""
    try:
        with in_language(user.language_code):
            asked = await db(services.result_edit_request)(generation=generation, position=position)
    except NotFound:
        with in_language(user.language_code):
            await _answer(query, chat_texts.generation_gone(), alert=True)
        return
    except DomainError as exc:  # not a picture, no model edits pictures, the upload limits
        with in_language(user.language_code):
            text, keyboard = refusal_reply(exc)
        await _answer(query)
        await context.bot.send_message(chat_id, text, reply_markup=keyboard)
        return
    await _answer(query)
    if asked:
        with in_language(user.language_code):
            await context.bot.send_message(chat_id, chat_texts.edit_question())


async def unknown_button(update: Update, context: Context) -> None:
    """A button of an older message whose data no handler knows: answered, nothing done."""
    await _answer(present(update.callback_query, "callback query"))


async def _answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    # A query can be answered only for a short while; past it Telegram refuses, and
    # there is nothing more to do.
    with contextlib.suppress(TelegramError):
        await query.answer(text, show_alert=alert)


def chat_handlers_register(application: BotApplication) -> None:
    """Registered by `telegram_bot.handlers` before its catch-all for other messages."""
    application.add_handler(CommandHandler("model", model_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(model_button, pattern=f"^{keyboards.MODEL_PREFIX}"))
    application.add_handler(CallbackQueryHandler(result_button, pattern=r"^r:"))
    application.add_handler(InlineQueryHandler(inline_query))
    application.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, generate_from_text))
    photo_handlers_register(application)


def chat_fallbacks_register(application: BotApplication) -> None:
    """After every other handler: buttons nobody knows are still answered."""
    application.add_handler(CallbackQueryHandler(unknown_button))
