"""Everything the bot says to users, in their language.

Call these inside `translation.override(user_language(...))`: each returns the
text in the active language (en or ru, from telegram_bot/locale). No HTML or
Markdown: names and prompts are users' own text and are sent as they are.
"""

from django.conf import settings
from django.utils.translation import gettext, ngettext, pgettext

from accounts.models import User


def command_descriptions() -> list[tuple[str, str]]:
    """The commands shown in Telegram's menu, in order: (command, description)."""
    return [
        ("start", gettext("Open NanoGen")),
        ("balance", gettext("Your credits")),
        ("buy", gettext("Buy credits with Telegram Stars")),
        ("promo", gettext("Use a promo code")),
        ("help", gettext("What the bot can do")),
        ("paysupport", gettext("Help with a payment")),
        ("model", gettext("Choose the model your messages use")),
    ]


def credits_amount(amount: int) -> str:
    return ngettext("%(count)d credit", "%(count)d credits", amount) % {"count": amount}


def open_app_button() -> str:
    return gettext("Open NanoGen")


def menu_button() -> str:
    return pgettext("chat menu button", "NanoGen")


def welcome(*, user: User, referral_linked: bool) -> str:
    lines = [
        gettext("Hi, %(name)s! NanoGen turns your words into images and videos with AI.")
        % {"name": user.first_name or user.username or gettext("friend")},
        "",
    ]
    if referral_linked:
        lines += [gettext("You came with a friend's invitation: welcome!"), ""]
    lines += [
        gettext("Your balance: %(credits)s.") % {"credits": credits_amount(user.credits)},
        gettext("Describe a picture in a message here or open the app; /buy to top up, /help for more."),
    ]
    return "\n".join(lines)


def app_link_line() -> str:
    """When the Mini App has no HTTPS address (a local run) there is no button: say where it is."""
    return gettext("The app: %(url)s") % {"url": settings.MINI_APP_URL}


def balance(*, user: User) -> str:
    return "\n".join([
        gettext("Your balance: %(credits)s.") % {"credits": credits_amount(user.credits)},
        gettext("Top up with /buy."),
    ])


def help_text() -> str:
    return "\n".join([
        gettext("NanoGen creates images and videos from your descriptions with AI models."),
        gettext("Describe what you want in a message here and I will create it, or open the app."),
        gettext("Send a photo (or an album) with a caption saying what to change, and I will edit it."),
        gettext("Each generation costs credits; a generation that fails gives them back."),
        "",
        gettext("/start: open the app"),
        gettext("/model: the model your messages use"),
        gettext("/balance: your credits"),
        gettext("/buy: buy credits with Telegram Stars"),
        gettext("/promo CODE: use a promo code"),
        gettext("/paysupport: help with a payment"),
        gettext("/help: this message"),
    ])


def pay_support(*, team_told: bool) -> str:
    lines = [
        gettext("Questions about a payment?"),
        gettext(
            "Credits you bought appear on your balance right after the payment. "
            "The credits of a generation that fails or that you cancel come back automatically."
        ),
    ]
    if settings.TELEGRAM_SUPPORT_CONTACT:
        lines.append(
            gettext("Write to %(contact)s with the date and the amount of the payment: we answer within a day.")
            % {"contact": settings.TELEGRAM_SUPPORT_CONTACT}
        )
    elif team_told:
        lines.append(gettext("Our team has been told and will contact you here within a day."))
    return "\n".join(lines)


def buy_choose() -> str:
    return gettext("Choose a credit pack. You pay with Telegram Stars.")


def buy_pack_button(*, title: str, credits: int, stars: int) -> str:
    return gettext("%(title)s: %(credits)s for %(stars)d ⭐") % {
        "title": title, "credits": credits_amount(credits), "stars": stars,
    }


def buy_nothing_on_sale() -> str:
    return gettext("No credit packs are on sale right now. Please come back later.")


def buy_invoice_failed() -> str:
    return gettext("Telegram could not create the invoice. Please try again in a minute.")


def payment_received(*, credits: int, balance: int) -> str:
    return gettext("Payment received: +%(credits)s. Your balance: %(balance)s.") % {
        "credits": credits_amount(credits), "balance": credits_amount(balance),
    }


def payment_checkout_unavailable() -> str:
    return gettext("Payments are temporarily unavailable. Please try again in a minute.")


def payment_not_confirmed() -> str:
    return gettext(
        "We received your payment but could not credit it right now. Support will look at it and contact you."
    )


def banned() -> str:
    return gettext("Your account is banned.")


def something_went_wrong() -> str:
    return gettext("Something went wrong on our side. Please try again later.")


def unknown_message() -> str:
    return gettext("Describe what you want in a message and I will create it, or open the app.")


def generation_failed(*, prompt: str, reason: str, credits_returned: int) -> str:
    lines = [gettext("Your generation failed: %(reason)s") % {"reason": reason or gettext("unknown error")}]
    if credits_returned:
        lines.append(gettext("%(credits)s returned to your balance.") % {"credits": credits_amount(credits_returned)})
    lines += ["", gettext("Prompt: %(prompt)s") % {"prompt": prompt}]
    return "\n".join(lines)


def generation_ready_in_app(*, prompt: str) -> str:
    return "\n".join([
        gettext("Your generation is ready: open it in the app."),
        "",
        gettext("Prompt: %(prompt)s") % {"prompt": prompt},
    ])


def withdrawal_paid(*, amount: int) -> str:
    return gettext("Your withdrawal of %(amount)d Stars has been paid out.") % {"amount": amount}


def withdrawal_rejected(*, amount: int, reason: str) -> str:
    return gettext(
        "Your withdrawal of %(amount)d Stars was rejected: %(reason)s\nThe Stars are back in your referral earnings."
    ) % {"amount": amount, "reason": reason}


# --- promo codes -----------------------------------------------------------------------------


def promo_usage() -> str:
    return gettext("Send the code after the command, for example: /promo SPRING25")


def promo_redeemed(*, credits: int, balance: int) -> str:
    return gettext("Promo code accepted: +%(credits)s. Your balance: %(balance)s.") % {
        "credits": credits_amount(credits), "balance": credits_amount(balance),
    }
