"""python-telegram-bot handlers: parse the update, call a service through `db`,
answer in the user's language. No business logic here.

Updates reach them through `telegram_bot.intake`, which stores each update before
it is acknowledged and hands it to the handlers once (a repeat never gets here).
A handler that raises leaves the update to be retried by the worker.
"""

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.utils import translation
from telegram import ChatMember, LabeledPrice, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    TypeHandler,
    filters,
)

from core.errors import DomainError
from core.i18n import user_language
from core.logging import log_context_update
from payments.errors import PaymentNotMatched
from payments.services import (
    invoice_request_for,
    payment_confirm,
    payment_invoice_failed,
    payment_pending_create,
    payment_pre_checkout,
    payment_refund_outside,
)
from promotions.services import promo_redeem
from telegram_bot import keyboards, selectors, services, texts
from telegram_bot.chat import keyboards as chat_keyboards
from telegram_bot.chat.handlers import chat_fallbacks_register, chat_handlers_register
from telegram_bot.handler_helpers import (
    PRIVATE,
    BotApplication,
    Context,
    in_language,
    present,
    telegram_user_from,
)
from telegram_bot.intake import handler_error_record
from telegram_bot.orm import db

logger = logging.getLogger(__name__)

# --- every update ---------------------------------------------------------------------------


async def log_ids(update: Update, context: Context) -> None:
    # Each update is handled in a task of its own: every log line of it carries its ids.
    log_context_update(update_id=update.update_id,
                       telegram_user_id=update.effective_user.id if update.effective_user else None)


# --- commands ---------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    message = present(update.effective_message, "message")
    parameter = context.args[0] if context.args else ""
    result = await db(services.bot_user_start)(
        telegram_user=telegram_user_from(present(update.effective_user, "sender")), start_parameter=parameter
    )
    user = result.user
    with in_language(user.language_code):
        if user.is_banned:
            await message.reply_text(texts.banned())
            return
        text = texts.welcome(user=user, referral_linked=result.referral_linked)
        keyboard = keyboards.open_app_keyboard()
        menu_button = keyboards.app_menu_button()
        if keyboard is None:
            text = f"{text}\n\n{texts.app_link_line()}"
    await message.reply_text(text, reply_markup=keyboard)
    if menu_button is not None:
        await context.bot.set_chat_menu_button(chat_id=message.chat.id, menu_button=menu_button)


async def balance(update: Update, context: Context) -> None:
    message = present(update.effective_message, "message")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    with in_language(user.language_code):
        text, keyboard = texts.balance(user=user), keyboards.open_app_keyboard()
    await message.reply_text(text, reply_markup=keyboard)


async def help_command(update: Update, context: Context) -> None:
    message = present(update.effective_message, "message")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    with in_language(user.language_code):
        text, keyboard = texts.help_text(), keyboards.open_app_keyboard()
    await message.reply_text(text, reply_markup=keyboard)


async def pay_support(update: Update, context: Context) -> None:
    message = present(update.effective_message, "message")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    team_told = False
    if not settings.TELEGRAM_SUPPORT_CONTACT:
        team_told = await db(services.paysupport_request)(user=user)
    with in_language(user.language_code):
        text = texts.pay_support(team_told=team_told)
    await message.reply_text(text)


async def buy(update: Update, context: Context) -> None:
    """The packs on sale as buttons; a button sends that pack's invoice (`buy_pack`)."""
    message = present(update.effective_message, "message")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    offers = await db(selectors.pack_offers)()
    language = user_language(user.language_code)
    with translation.override(language):
        if user.is_banned:
            await message.reply_text(texts.banned())
            return
        if not offers:
            await message.reply_text(texts.buy_nothing_on_sale())
            return
        buttons = [
            (offer.slug, texts.buy_pack_button(title=offer.title_for(language), credits=offer.credits,
                                               stars=offer.stars))
            for offer in offers
        ]
        text = texts.buy_choose()
    await message.reply_text(text, reply_markup=keyboards.packs_keyboard(buttons))


async def buy_pack(update: Update, context: Context) -> None:
    query = present(update.callback_query, "callback query")
    slug = present(query.data, "callback data").removeprefix(keyboards.BUY_CALLBACK_PREFIX)
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(query.from_user))
    with contextlib.suppress(TelegramError):
        # Only stops the button's spinner: a button pressed long ago can no longer be
        # answered, and the invoice is still wanted.
        await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    with in_language(user.language_code):
        if user.is_banned:
            await context.bot.send_message(chat_id, texts.banned())
            return
        try:
            payment = await db(payment_pending_create)(user=user, pack_slug=slug)
        except DomainError as exc:  # the pack is no longer sold, too many invoices
            await context.bot.send_message(chat_id, str(exc.message))
            return
        invoice = invoice_request_for(payment)
        failed_text = texts.buy_invoice_failed()
    try:
        await context.bot.send_invoice(
            chat_id=chat_id,
            title=invoice["title"],
            description=invoice["description"],
            payload=invoice["payload"],
            currency=invoice["currency"],
            prices=[LabeledPrice(price["label"], price["amount"]) for price in invoice["prices"]],
        )
    except TelegramError as exc:
        await db(payment_invoice_failed)(payment_id=payment.pk, reason=f"sendInvoice: {exc.message}")
        await context.bot.send_message(chat_id, failed_text)


async def buy_from_button(update: Update, context: Context) -> None:
    """The "Buy credits" button under a refusal for lack of credits: the packs, as /buy."""
    with contextlib.suppress(TelegramError):
        await present(update.callback_query, "callback query").answer()
    await buy(update, context)
async def promo(update: Update, context: Context) -> None:
    """/promo CODE: the code's credits, through the same service (and rate limit) as the app."""
    message = present(update.effective_message, "message")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    with in_language(user.language_code):
        if user.is_banned:
            await message.reply_text(texts.banned())
            return
        if not context.args:
            await message.reply_text(texts.promo_usage())
            return
        try:
            redeemed = await db(promo_redeem)(user=user, code=context.args[0])
        except DomainError as exc:  # unknown, used, used up, too many attempts
            text = str(exc.message)
        else:
            text = texts.promo_redeemed(credits=redeemed.credits, balance=redeemed.balance)
    await message.reply_text(text)


# --- payments ---------------------------------------------------------------------------------


async def pre_checkout(update: Update, context: Context) -> None:
    """Telegram waits at most 10 seconds for this answer before it gives up the
    payment: only database reads happen before it."""
    query = present(update.pre_checkout_query, "pre-checkout query")
    try:
        ok, error_message = await db(payment_pre_checkout)(
            telegram_user_id=query.from_user.id,
            payload=query.invoice_payload,
            currency=query.currency,
            total_amount=query.total_amount,
        )
    except Exception:
        # Answer anyway, so the user learns at once that nothing was charged.
        with in_language(query.from_user.language_code):
            await query.answer(ok=False, error_message=texts.payment_checkout_unavailable())
        raise
    await query.answer(ok=ok, error_message=None if ok else error_message)


async def successful_payment(update: Update, context: Context) -> None:
    message = present(update.effective_message, "message")
    paid = present(message.successful_payment, "successful payment")
    buyer = present(message.from_user, "sender")
    language_code = buyer.language_code
    try:
        payment = await db(payment_confirm)(
            telegram_user_id=buyer.id,
            payload=paid.invoice_payload,
            currency=paid.currency,
            total_amount=paid.total_amount,
            telegram_payment_charge_id=paid.telegram_payment_charge_id,
            provider_payment_charge_id=paid.provider_payment_charge_id or "",
            # Set for a subscription's payments (the first and every renewal).
            subscription_expires_at=paid.subscription_expiration_date,
        )
    except PaymentNotMatched as exc:
        # Recorded as a PaymentIssue; its hook alerts the admins.
        with in_language(language_code):
            await message.reply_text(str(exc.message))
        return
    except Exception:
        with in_language(language_code):
            await message.reply_text(texts.payment_not_confirmed())
        raise  # the error handler alerts the admins with the charge id
    credits = await db(selectors.user_credits)(user_id=payment.user_id)
    with in_language(language_code):
        text, keyboard = texts.payment_received(credits=payment.credits, balance=credits), keyboards.open_app_keyboard()
    await message.reply_text(text, reply_markup=keyboard)


async def refunded_payment(update: Update, context: Context) -> None:
    """Telegram refunded a payment outside NanoGen (its support): take back what it
    gave, once; the admins are alerted through the payments hook."""
    message = present(update.effective_message, "message")
    refund = present(message.refunded_payment, "refunded payment")
    await db(payment_refund_outside)(
        telegram_payment_charge_id=refund.telegram_payment_charge_id,
        telegram_user_id=message.chat.id,
        total_amount=refund.total_amount,
        invoice_payload=refund.invoice_payload,
        reason=f"Refunded by Telegram outside NanoGen (refunded_payment, {refund.total_amount} {refund.currency})",
    )


# --- anything else ----------------------------------------------------------------------------


async def membership_changed(update: Update, context: Context) -> None:
    """The user blocked the bot (kicked) or unblocked it (member) in their private chat."""
    change = present(update.my_chat_member, "chat member change")
    if change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        await db(services.bot_user_blocked)(telegram_id=change.from_user.id, blocked=True)
    elif status == ChatMember.MEMBER:
        await db(services.bot_user_blocked)(telegram_id=change.from_user.id, blocked=False)


async def other_message(update: Update, context: Context) -> None:
    message = present(update.effective_message, "message")
    user = await db(services.bot_user_seen)(telegram_user=telegram_user_from(present(update.effective_user, "sender")))
    with in_language(user.language_code):
        text, keyboard = texts.unknown_message(), keyboards.open_app_keyboard()
        if keyboard is None:
            text = f"{text}\n\n{texts.app_link_line()}"
    await message.reply_text(text, reply_markup=keyboard)


# --- errors -------------------------------------------------------------------------------------


def update_summary(update: object) -> dict[str, Any]:
    """What the logs and the alert say about an update: ids and kinds, no message
    text beyond a command, nothing secret."""
    if not isinstance(update, Update):
        return {"kind": "none"}
    summary: dict[str, Any] = {"update_id": update.update_id, "kind": "other"}
    for kind in ("message", "callback_query", "pre_checkout_query", "my_chat_member"):
        if getattr(update, kind) is not None:
            summary["kind"] = kind
            break
    message = update.effective_message
    if message is not None and message.successful_payment is not None:
        paid = message.successful_payment
        summary.update(kind="successful_payment", charge_id=paid.telegram_payment_charge_id,
                       amount=f"{paid.total_amount} {paid.currency}", payload=paid.invoice_payload)
    elif message is not None and message.refunded_payment is not None:
        refund = message.refunded_payment
        summary.update(kind="refunded_payment", charge_id=refund.telegram_payment_charge_id,
                       amount=f"{refund.total_amount} {refund.currency}")
    elif message is not None and message.text and message.text.startswith("/"):
        summary["command"] = message.text.split()[0][:32]
    if update.effective_user is not None:
        summary["telegram_user_id"] = update.effective_user.id
    return summary


async def on_error(update: object, context: Context) -> None:
    """A handler failed: log it with the update, alert the admins (at most once per
    kind of failure per ADMIN_ALERT_INTERVAL_SECONDS; every failed payment), and
    tell the user. The update stays stored: the worker processes it again later."""
    error = context.error
    summary = update_summary(update)
    logger.error("bot update %s (%s) failed: %r", summary.get("update_id"), summary["kind"], error,
                 exc_info=error, extra={"update": summary})
    if summary["kind"] == "none":
        return  # not an update (a network error of getUpdates): logged, PTB retries itself
    is_payment = summary["kind"] in ("successful_payment", "refunded_payment")
    details = ", ".join(f"{key}={value}" for key, value in summary.items())
    headline = (
        "💥 A Stars payment update failed (the worker retries it): check in the admin that it gets credited"
        if is_payment
        else "🔥 Bot handler failed"
    )
    text = f"{headline}: {type(error).__name__}\n{details}"
    try:
        await db(services.admin_alert)(
            text=text, rate_key=None if is_payment else f"handler:{summary['kind']}:{type(error).__name__}"
        )
    except Exception:
        logger.exception("could not alert the admins about a failed update")
    if isinstance(update, Update) and update.callback_query is not None:
        # Every callback query is answered, so the button stops spinning; one the handler
        # answered already is refused by Telegram, which changes nothing.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    if summary["kind"] in ("message", "callback_query") and not is_payment and isinstance(update, Update):
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            with in_language(update.effective_user.language_code if update.effective_user else None):
                sorry = texts.something_went_wrong()
            try:
                await context.bot.send_message(chat.id, sorry)
            except TelegramError:
                pass  # Telegram itself may be what failed


def handlers_register(application: BotApplication) -> None:
    application.add_error_handler(handler_error_record)  # first: the intake must learn of every failure
    application.add_handler(TypeHandler(Update, log_ids), group=-1)
    application.add_handler(CommandHandler("start", start, filters=PRIVATE))
    application.add_handler(CommandHandler("balance", balance, filters=PRIVATE))
    application.add_handler(CommandHandler("buy", buy, filters=PRIVATE))
    application.add_handler(CommandHandler("promo", promo, filters=PRIVATE))
    application.add_handler(CommandHandler("help", help_command, filters=PRIVATE))
    application.add_handler(CommandHandler("paysupport", pay_support, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(buy_pack, pattern=f"^{keyboards.BUY_CALLBACK_PREFIX}"))
    application.add_handler(CallbackQueryHandler(buy_from_button, pattern=f"^{chat_keyboards.SHOP}$"))
    application.add_handler(PreCheckoutQueryHandler(pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, successful_payment))
    application.add_handler(MessageHandler(filters.StatusUpdate.REFUNDED_PAYMENT, refunded_payment))
    application.add_handler(ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    # The bot as a client: /model, text to generations, the buttons under results, inline mode.
    chat_handlers_register(application)
    # Last: anything else in a private chat, unknown commands too, gets a pointer to the app.
    application.add_handler(MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, other_message))
    chat_fallbacks_register(application)
    application.add_error_handler(on_error)
