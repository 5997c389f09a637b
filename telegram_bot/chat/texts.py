"""What the bot says while it generates in the chat, in the user's language.

Call these inside `translation.override(user_language(...))`, like
`telegram_bot.texts`. No HTML or Markdown: prompts are users' own text.
"""

from django.utils.translation import gettext, ngettext

from telegram_bot.models import StatusMessage
from telegram_bot.texts import credits_amount

Stage = StatusMessage.Stage


# --- the status message -------------------------------------------------------------------------


def status(*, stage: str, model_name: str, credits: int, reason: str = "") -> str:
    """The status message of a generation at `stage`."""
    if stage == Stage.QUEUED:
        return gettext("⏳ %(model)s: queued (%(credits)s)") % {"model": model_name, "credits": credits_amount(credits)}
    if stage == Stage.GENERATING:
        return gettext("🎨 %(model)s: generating…") % {"model": model_name}
    if stage == Stage.DONE:
        return gettext("✅ %(model)s: done") % {"model": model_name}
    refunded = gettext("%(credits)s returned to your balance.") % {"credits": credits_amount(credits)}
    if stage == Stage.CANCELLED:
        return "\n".join([gettext("🚫 %(model)s: cancelled") % {"model": model_name}, refunded])
    reason = reason or gettext("unknown error")
    return "\n".join([gettext("❌ %(model)s: failed. %(reason)s") % {"model": model_name, "reason": reason}, refunded])


# --- refusals: what happened and the way out -------------------------------------------------------


def not_enough_credits(*, balance: int, price: int) -> str:
    return gettext("Not enough credits: this costs %(price)s, your balance is %(balance)s. Top up with /buy.") % {
        "price": credits_amount(price), "balance": credits_amount(balance),
    }


def rate_limited(*, seconds: int) -> str:
    return ngettext(
        "Too many generations in the last minute. Try again in %(count)d second.",
        "Too many generations in the last minute. Try again in %(count)d seconds.",
        seconds,
    ) % {"count": seconds}


def too_many_active(*, limit: int) -> str:
    return ngettext(
        "You already have %(count)d generation in progress. Send it again when it has finished.",
        "You already have %(count)d generations in progress. Send it again when one of them has finished.",
        limit,
    ) % {"count": limit}


def model_unavailable() -> str:
    return gettext("This model is not available any more. Choose another one with /model.")


def no_model() -> str:
    return gettext("No model is available right now. Please try again later.")


def invalid_request(*, problems: str) -> str:
    return gettext("This cannot be generated: %(problems)s") % {"problems": problems}


def buy_button() -> str:
    return gettext("Buy credits")


# --- /model ----------------------------------------------------------------------------------------


def model_menu(*, current: str) -> str:
    return "\n".join([
        gettext("Your messages generate with: %(model)s.") % {"model": current or "—"},
        gettext("Choose a model:"),
    ])


def model_button(*, name: str, price: int, chosen: bool) -> str:
    label = gettext("%(name)s · %(credits)s") % {"name": name, "credits": credits_amount(price)}
    return f"✓ {label}" if chosen else label


def model_chosen(*, name: str) -> str:
    return gettext("Now generating with %(model)s.") % {"model": name}


# --- the buttons under results ----------------------------------------------------------------------


def again_button() -> str:
    return gettext("🔁 Again")


def file_button() -> str:
    return gettext("📎 File")


def files_button() -> str:
    return gettext("📎 Files")


def edit_button() -> str:
    return gettext("✏️ Edit")


def animate_button() -> str:
    return gettext("🎬 Animate")


def edit_number_button(*, number: int) -> str:
    return gettext("✏️ %(number)d") % {"number": number}


def animate_number_button(*, number: int) -> str:
    return gettext("🎬 %(number)d") % {"number": number}


def album_buttons_hint() -> str:
    return gettext("✏️ n: your next message edits picture n. 🎬 n: animates it.")


def album_caption(*, count: int) -> str:
    return ngettext("Your result is above.", "Your %(count)d results are above.", count) % {"count": count}


def started() -> str:
    return gettext("Started: the result comes in this chat.")


def already_started() -> str:
    return gettext("Already started from this button: the result comes in this chat.")


def not_yours() -> str:
    return gettext("This button belongs to somebody else's result.")


def generation_gone() -> str:
    return gettext("This result no longer exists.")


def result_link(*, prompt: str, url: str) -> str:
    return "\n".join([prompt, "", gettext("Too large to send here; download it: %(url)s") % {"url": url}])


def result_unavailable() -> str:
    return gettext("The file of this result is not available any more.")


# --- inline mode and sharing ------------------------------------------------------------------------


def make_yours_button() -> str:
    return gettext("Make yours")


def inline_open_bot() -> str:
    return gettext("Create a new one in the bot")


def inline_result_title(*, prompt: str) -> str:
    return prompt[:64] or gettext("Your result")


# --- photos sent to the bot, and results given back to it (Edit, Animate) --------------------------


def photo_question(*, count: int) -> str:
    """A photo (or album) without a caption: what to do with it?"""
    return ngettext(
        "Got your photo. Now send me what to change, in one message (for example: “make it a watercolour”).",
        "Got your %(count)d photos. Now send me what to do with them, in one message.",
        count,
    ) % {"count": count}


def edit_question() -> str:
    return gettext("✏️ Send me what to change in this picture, in one message.")


def too_many_photos(*, model_name: str, maximum: int, count: int) -> str:
    return ngettext(
        "%(model)s takes at most %(max)d photo at once, and you sent %(count)d. Send at most %(max)d.",
        "%(model)s takes at most %(max)d photos at once, and you sent %(count)d. Send at most %(max)d.",
        maximum,
    ) % {"model": model_name, "max": maximum, "count": count}


def photo_refused(*, reason: str, number: int, count: int) -> str:
    if count == 1:
        return gettext("This photo cannot be used: %(reason)s") % {"reason": reason}
    return gettext("Photo %(number)d of %(count)d cannot be used: %(reason)s Nothing was started.") % {
        "number": number, "count": count, "reason": reason,
    }


def photo_unavailable() -> str:
    return gettext("Telegram could not give me this file.")


def photos_not_received() -> str:
    return gettext("I could not get your photos from Telegram. Please send them again.")


def photo_late() -> str:
    return gettext(
        "This photo came after the rest of its album had been taken. Send it again on its own, with a caption."
    )


def uploads_rate_limited(*, seconds: int) -> str:
    return ngettext(
        "Too many pictures in the last minute. Try again in %(count)d second.",
        "Too many pictures in the last minute. Try again in %(count)d seconds.",
        seconds,
    ) % {"count": seconds}
