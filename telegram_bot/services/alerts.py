"""Messages outside the generation flow: alerts to the admins' chat
(ADMIN_ALERT_CHAT_ID) and the user's news about their withdrawal.

payments tells the bot about its events through the listeners in
`telegram_bot.hooks`, which only enqueue tasks; the tasks build the texts here
from the database and send them, retrying transient errors a few times by
schedule. An alert is always a task, so a Telegram outage delays it and never
breaks the payment or the handler that raised it.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from telegram.error import TelegramError

from accounts.models import User
from accounts.services import user_set_reachable
from core.i18n import user_language
from core.scheduling import task_retry_schedule
from core.task_names import ADMIN_ALERT_SEND, WITHDRAWAL_DECIDED_NOTIFY
from core.telegram_api import TelegramApiError, bot_api_call
from payments.models import Payment, PaymentIssue, Withdrawal
from telegram_bot import texts
from telegram_bot.hooks import task_enqueue
from telegram_bot.sending import (
    MESSAGE_MAX_LENGTH,
    Outgoing,
    TelegramFailure,
    bot_send,
    telegram_error_classify,
    telegram_length_cut,
)

logger = logging.getLogger(__name__)

# An alert or a user message is tried this often before it is given up (logged).
SEND_MAX_ATTEMPTS = 4
RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 600.0


# --- admin alerts -------------------------------------------------------------------------


def admin_alert(*, text: str, rate_key: str | None = None) -> bool:
    """Queue `text` for the admins' chat; False when no ADMIN_ALERT_CHAT_ID is set,
    or when an alert with the same `rate_key` went out in the last
    ADMIN_ALERT_INTERVAL_SECONDS (a failing handler must not flood the chat).

    The rate limit lives in the cache: shared by all processes with Redis,
    per process with the local-memory cache.
    """
    if not settings.ADMIN_ALERT_CHAT_ID:
        return False
    if rate_key is not None and not cache.add(
        f"telegram_bot:admin-alert:{rate_key}"[:200], 1, timeout=settings.ADMIN_ALERT_INTERVAL_SECONDS
    ):
        logger.info("admin alert %s suppressed (rate limit)", rate_key)
        return False
    return task_enqueue(ADMIN_ALERT_SEND, text=text)


def admin_alert_deliver(*, text: str, attempt: int = 1) -> bool:
    """Send an alert to the admins' chat now; a transient failure schedules another try."""
    if not settings.ADMIN_ALERT_CHAT_ID:
        return False
    try:
        bot_api_call("sendMessage", {
            "chat_id": settings.ADMIN_ALERT_CHAT_ID,
            "text": telegram_length_cut(text, MESSAGE_MAX_LENGTH),
            "link_preview_options": {"is_disabled": True},
        })
    except TelegramApiError as exc:
        error = telegram_error_classify(exc)
        if error.failure != TelegramFailure.TRANSIENT or attempt >= SEND_MAX_ATTEMPTS:
            logger.error("admin alert not sent (attempt %s): %s; the alert was: %s", attempt, exc, text)
            return False
        task_retry_schedule(
            func=ADMIN_ALERT_SEND, kwargs={"text": text, "attempt": attempt + 1}, attempt=attempt,
            base=RETRY_BASE_SECONDS, maximum=RETRY_MAX_SECONDS, retry_after=error.retry_after,
            name=f"admin alert try {attempt + 1}",
        )
        return False
    return True


def _who(user: User | None, telegram_id: int | None = None) -> str:
    if user is None:
        return f"Telegram user {telegram_id}"
    return f"{user} [user {user.pk}]"


def payment_issue_alert_text(*, issue_id: int) -> str:
    issue = PaymentIssue.objects.select_related("user").get(pk=issue_id)
    return "\n".join([
        f"⚠️ Unmatched Stars payment (issue {issue.pk}): nothing was credited.",
        f"{issue.total_amount} {issue.currency} from {_who(issue.user, issue.telegram_user_id)}",
        f"Reason: {issue.get_reason_display()}; payment: {issue.payment_id or '-'}",
        f"Charge: {issue.telegram_payment_charge_id}",
        "Refund or resolve it in the admin: Payments > Unmatched payments.",
    ])


def payment_refunded_outside_alert_text(*, payment_id: int) -> str:
    payment = Payment.objects.select_related("user").get(pk=payment_id)
    short = payment.credits - payment.refund_credits_removed
    return "\n".join([
        f"↩️ Telegram refunded payment {payment.pk} outside NanoGen: {payment.stars} Stars to {_who(payment.user)}",
        f"{payment.refund_credits_removed} of {payment.credits} credits taken back"
        + (f" ({short} already spent)" if short else "")
        + f"; {payment.refund_earnings_reversed} Stars of referral commission reversed.",
        f"Charge: {payment.telegram_payment_charge_id}. {payment.refund_reason}",
    ])


def withdrawal_requested_alert_text(*, withdrawal_id: int) -> str:
    withdrawal = Withdrawal.objects.select_related("user").get(pk=withdrawal_id)
    return "\n".join([
        f"💸 Withdrawal {withdrawal.pk} requested: {withdrawal.amount} Stars by {_who(withdrawal.user)}",
        f"{withdrawal.get_method_display()}: {withdrawal.destination}",
        "Approve or reject it in the admin: Payments > Withdrawals.",
    ])


# --- messages to users ----------------------------------------------------------------------


def user_message_withdrawal_decided(*, withdrawal_id: int, attempt: int = 1) -> bool:
    """Tell the user that their withdrawal was paid out or rejected; True when sent."""
    withdrawal = Withdrawal.objects.select_related("user").get(pk=withdrawal_id)
    user = withdrawal.user
    if withdrawal.status == Withdrawal.Status.PENDING or user.telegram_id is None or not user.is_reachable:
        return False
    with translation.override(user_language(user.language_code)):
        if withdrawal.status == Withdrawal.Status.PAID:
            text = texts.withdrawal_paid(amount=withdrawal.amount)
        else:
            text = texts.withdrawal_rejected(amount=withdrawal.amount, reason=withdrawal.reject_reason)
    try:
        # Outside any transaction: a network call.
        bot_send(Outgoing(chat_id=user.telegram_id, text=text))
    except TelegramError as exc:
        error = telegram_error_classify(exc)
        if error.failure == TelegramFailure.UNREACHABLE:
            user_set_reachable(user_id=user.pk, reachable=False)
        elif error.failure == TelegramFailure.PERMANENT:
            logger.error("withdrawal %s: user not told: %s", withdrawal_id, error.message)
        elif attempt >= SEND_MAX_ATTEMPTS:
            logger.error("withdrawal %s: user not told after %s attempts: %s", withdrawal_id, attempt, error.message)
        else:
            task_retry_schedule(
                func=WITHDRAWAL_DECIDED_NOTIFY, kwargs={"withdrawal_id": withdrawal_id, "attempt": attempt + 1},
                attempt=attempt, base=RETRY_BASE_SECONDS, maximum=RETRY_MAX_SECONDS, retry_after=error.retry_after,
                name=f"withdrawal {withdrawal_id} message try {attempt + 1}",
            )
        return False
    return True


def paysupport_request(*, user: User) -> bool:
    """/paysupport: tell the admins who needs help, with the user's latest payments
    (at most once per user per ADMIN_ALERT_INTERVAL_SECONDS). True when the
    admins' chat is set up, so the user can be told that the team knows."""
    if not settings.ADMIN_ALERT_CHAT_ID:
        return False
    payments = list(user.payments.order_by("-id")[:5])
    lines = [f"🆘 /paysupport from {_who(user)}"]
    lines += [f"payment {p.pk}: {p.stars} Stars, {p.credits} credits, {p.status}, {p.created_at:%Y-%m-%d %H:%M}"
              for p in payments] or ["no payments"]
    admin_alert(text="\n".join(lines), rate_key=f"paysupport:{user.pk}")
    return True
