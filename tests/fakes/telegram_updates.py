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


def _media_extras(caption: str | None, media_group_id: str | None) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if caption is not None:
        extras["caption"] = caption
    if media_group_id is not None:
        extras["media_group_id"] = media_group_id
    return extras


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

    def photo(self, profile: dict[str, Any], file_id: str, *, caption: str | None = None,
              media_group_id: str | None = None, file_size: int | None = None) -> dict[str, Any]:
        """A photo as Telegram delivers it: its sizes, smallest first, the largest one
        `file_id` (the smaller ones are thumbnails the fake Bot API has no file for)."""
        sizes = [
            {"file_id": f"{file_id}-s", "file_unique_id": f"u{file_id}-s", "width": 90, "height": 67,
             "file_size": 1200},
            {"file_id": f"{file_id}-m", "file_unique_id": f"u{file_id}-m", "width": 320, "height": 240,
             "file_size": 9000},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280, "height": 960,
             **({"file_size": file_size} if file_size is not None else {})},
        ]
        return self.message(profile, photo=sizes, **_media_extras(caption, media_group_id))

    def document(self, profile: dict[str, Any], file_id: str, *, mime_type: str = "image/png",
                 file_name: str = "picture.png", caption: str | None = None, media_group_id: str | None = None,
                 file_size: int | None = None) -> dict[str, Any]:
        """A file sent as a document (an image sent without Telegram's compression)."""
        document: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name,
                                    "mime_type": mime_type}
        if file_size is not None:
            document["file_size"] = file_size
        return self.message(profile, document=document, **_media_extras(caption, media_group_id))

    def album(self, profile: dict[str, Any], file_ids: list[str], *, caption: str | None = None,
              caption_on: int = 0, media_group_id: str = "13900000000000001") -> list[dict[str, Any]]:
        """An album: one update per photo, one media_group_id, the caption on one of them."""
        return [self.photo(profile, file_id, caption=caption if index == caption_on else None,
                           media_group_id=media_group_id)
                for index, file_id in enumerate(file_ids)]

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
