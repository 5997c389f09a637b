"""Users as the bot meets them."""

import logging
from dataclasses import dataclass

from accounts.models import User
from accounts.services import user_from_telegram, user_set_reachable
from accounts.telegram_init_data import TelegramUser
from payments.services import referral_attach
from payments.services.referrals import START_PREFIX

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartResult:
    user: User
    # The start parameter was a referral code and linked this user to its owner.
    referral_linked: bool


def bot_user_seen(*, telegram_user: TelegramUser) -> User:
    """The user behind a message to the bot, created or updated from Telegram's profile.

    Whoever writes to the bot can be written to again, so a user the bot had
    marked unreachable (they had blocked it) becomes reachable.
    """
    user = user_from_telegram(telegram_user=telegram_user)
    if not user.is_reachable and user_set_reachable(user_id=user.pk, reachable=True):
        user.is_reachable = True
        logger.info("user %s reachable again", user.pk)
    return user


def bot_user_start(*, telegram_user: TelegramUser, start_parameter: str = "") -> StartResult:
    """/start [ref_<code>]: register the user and link the referrer the code names
    (the referral rules decide: never oneself, only a new user, at most once)."""
    user = bot_user_seen(telegram_user=telegram_user)
    linked = False
    if start_parameter.lower().startswith(START_PREFIX):
        linked = referral_attach(user=user, code=start_parameter)
    return StartResult(user=user, referral_linked=linked)


def bot_user_blocked(*, telegram_id: int, blocked: bool) -> bool:
    """Telegram said the user blocked (or unblocked) the bot: stop (or resume)
    writing to them. False when nothing changed or the user is unknown."""
    user_id = User.objects.filter(telegram_id=telegram_id).values_list("pk", flat=True).first()
    if user_id is None:
        return False
    changed = user_set_reachable(user_id=user_id, reachable=not blocked)
    if changed:
        logger.info("user %s %s the bot", user_id, "blocked" if blocked else "unblocked")
    return changed
