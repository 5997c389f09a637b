"""Events of the money side that a higher app (the bot) reacts to (core.hooks): payments
must not import telegram_bot, so the bot registers its listeners in `AppConfig.ready`
(`hook_register(PAYMENT_ISSUE, alert_admins)`). A listener that fails is logged: an
alert that cannot be sent must not undo a payment."""

from core.hooks import Hooks

PAYMENT_PAID = "payment_paid"  # payment_id
PAYMENT_ISSUE = "payment_issue"  # issue_id: Stars received that matched nothing; alert admins
PAYMENT_REFUNDED = "payment_refunded"  # payment_id
# payment_id: Telegram refunded it outside NanoGen (its support); the credits were taken back. Alert admins.
PAYMENT_REFUNDED_OUTSIDE = "payment_refunded_outside"
WITHDRAWAL_REQUESTED = "withdrawal_requested"  # withdrawal_id; alert admins
WITHDRAWAL_DECIDED = "withdrawal_decided"  # withdrawal_id; tell the user

EVENTS = (PAYMENT_PAID, PAYMENT_ISSUE, PAYMENT_REFUNDED, PAYMENT_REFUNDED_OUTSIDE, WITHDRAWAL_REQUESTED,
          WITHDRAWAL_DECIDED)

payments_hooks = Hooks("payments", EVENTS)
hook_register = payments_hooks.register
hook_emit_on_commit = payments_hooks.emit_on_commit
