"""Telegram updates as the Bot API sends them (JSON dicts), for the bot's tests.

`TelegramUpdates` numbers updates and messages; each builder returns one update
that can be posted to the webhook or fed to the Application.
"""

import itertools
import time
from typing import Any

from tests.fakes.telegram import BOT_ID, BOT_USERNAME


def telegram_profile(telegram_id: int, *, first_name: str = "Test", username: str = "",
                     language_code: str = "en") -> dict[str, Any]:
    profile: dict[str, Any] = {"id": telegram_id, "is_bot": False, "first_name": first_name,
                               "language_code": language_code}
    if username:
        profile["username"] = username
    return profile


def _chat(profile: dict[str, Any]) -> dict[str, Any]:
    return {"id": profile["id"], "type": "private", "first_name": profile["first_name"]}


class TelegramUpdates:
    def __init__(self, *, first_update_id: int = 1001) -> None:
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1)

    def _update(self, **content: Any) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **content}

    def _message(self, profile: dict[str, Any], **content: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": _chat(profile),
                "from": profile, **content}

    def text(self, profile: dict[str, Any], text: str) -> dict[str, Any]:
        """A private message; a leading /command gets its bot_command entity, like Telegram's."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._update(message=self._message(profile, **content))

    def command(self, profile: dict[str, Any], command: str, *args: str) -> dict[str, Any]:
        return self.text(profile, " ".join([f"/{command}", *args]))

    def callback(self, profile: dict[str, Any], data: str, *, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """A button pressed by `profile` under `message` (a message the bot sent, as the
        fake Bot API returned it; by default a new one in `profile`'s chat)."""
        bot_message = message or {
            "message_id": next(self._message_ids), "date": int(time.time()), "chat": _chat(profile),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "NanoGen", "username": BOT_USERNAME},
            "text": "Choose a credit pack.",
        }
        return self._update(callback_query={"id": f"cq{next(self._message_ids)}", "from": profile,
                                            "chat_instance": "42", "data": data, "message": bot_message})

    def message(self, profile: dict[str, Any], **content: Any) -> dict[str, Any]:
        """A private message with any content (a sticker, a photo...)."""
        return self._update(message=self._message(profile, **content))

    def inline_query(self, profile: dict[str, Any], query: str, *, offset: str = "") -> dict[str, Any]:
        return self._update(inline_query={"id": f"iq{next(self._message_ids)}", "from": profile, "query": query,
                                          "offset": offset, "chat_type": "sender"})

    def pre_checkout(self, profile: dict[str, Any], *, payload: str, total_amount: int,
                     currency: str = "XTR") -> dict[str, Any]:
        return self._update(pre_checkout_query={
            "id": f"pcq{next(self._message_ids)}", "from": profile, "currency": currency,
            "total_amount": total_amount, "invoice_payload": payload,
        })

    def successful_payment(self, profile: dict[str, Any], *, payload: str, total_amount: int, charge_id: str,
                           currency: str = "XTR") -> dict[str, Any]:
        return self._update(message=self._message(profile, successful_payment={
            "currency": currency, "total_amount": total_amount, "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": "",
        }))

    def stars_payment(self, profile: dict[str, Any], paid: dict[str, Any]) -> dict[str, Any]:
        """A successful_payment message with the content `fake_telegram.stars` made."""
        return self._update(message=self._message(profile, successful_payment=paid))

    def refunded_payment(self, profile: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
        """Telegram's service message about a refund made outside the bot."""
        return self._update(message=self._message(profile, refunded_payment=refund))

    def membership(self, profile: dict[str, Any], *, old: str, new: str) -> dict[str, Any]:
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "NanoGen", "username": BOT_USERNAME}

        def member(status: str) -> dict[str, Any]:
            return {"user": bot, "status": status, **({"until_date": 0} if status == "kicked" else {})}

        return self._update(my_chat_member={
            "chat": _chat(profile), "from": profile, "date": int(time.time()),
            "old_chat_member": member(old), "new_chat_member": member(new),
        })
