"""Buttons of the bot as a client.

Callback data names what a button acts on by id (`r:a:42:0`: Again on result 0 of
generation 42; `r:e:` Edit, `r:v:` Animate, `r:f:` File), never by payload, and stays
within Telegram's 64 bytes; what the button does is read from the database when it is
pressed.
"""

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from telegram_bot.chat import texts

CALLBACK_DATA_MAX_BYTES = 64
MODEL_PREFIX = "m:"
SHOP = "shop"
# Numbered buttons per row under an album (Telegram shows up to 8 in a row; 5 stay readable).
ROW_MAX_BUTTONS = 5
RESULT_PATTERN = re.compile(r"^r:(?P<action>[a-z]):(?P<generation>\d{1,19})(?::(?P<position>\d{1,2}))?$")


def callback_data(data: str) -> str:
    """`data` once checked against Telegram's limit (a bug, not bad input, if it is over)."""
    if len(data.encode()) > CALLBACK_DATA_MAX_BYTES:
        raise ValueError(f"callback data over {CALLBACK_DATA_MAX_BYTES} bytes: {data!r}")
    return data


class ResultAction(enum.StrEnum):
    AGAIN = "a"
    FILE = "f"
    EDIT = "e"  # the next text edits this result
    ANIMATE = "v"  # an image-to-video generation of this result


@dataclass(frozen=True)
class ResultButton:
    """A button under a result: what it does, to which generation, and to which of its
    results (None: all of them, the buttons under an album)."""

    action: ResultAction
    generation_id: int
    position: int | None = None

    @property
    def data(self) -> str:
        tail = "" if self.position is None else f":{self.position}"
        return callback_data(f"r:{self.action}:{self.generation_id}{tail}")

    @classmethod
    def parse(cls, data: str) -> "ResultButton | None":
        found = RESULT_PATTERN.match(data or "")
        if found is None or found["action"] not in ResultAction._value2member_map_:
            return None
        position = found["position"]
        return cls(ResultAction(found["action"]), int(found["generation"]),
                   int(position) if position is not None else None)


def result_keyboard(*, generation_id: int, position: int | None,
                    pictures: Sequence[int] = ()) -> InlineKeyboardMarkup:
    """Under one result (`position`), or under an album's results (None). `pictures`
    are the positions of the results that are still pictures: those get Edit and
    Animate (under an album, one numbered button per picture)."""
    file_label = texts.file_button() if position is not None else texts.files_button()
    rows = [[
        InlineKeyboardButton(texts.again_button(),
                             callback_data=ResultButton(ResultAction.AGAIN, generation_id, position).data),
        InlineKeyboardButton(file_label, callback_data=ResultButton(ResultAction.FILE, generation_id, position).data),
    ]]
    if position is not None:
        if position in pictures:
            rows.append([
                InlineKeyboardButton(texts.edit_button(),
                                     callback_data=ResultButton(ResultAction.EDIT, generation_id, position).data),
                InlineKeyboardButton(texts.animate_button(),
                                     callback_data=ResultButton(ResultAction.ANIMATE, generation_id, position).data),
            ])
        return InlineKeyboardMarkup(rows)
    for action, label in ((ResultAction.EDIT, texts.edit_number_button),
                          (ResultAction.ANIMATE, texts.animate_number_button)):
        buttons = [InlineKeyboardButton(label(number=index + 1),
                                        callback_data=ResultButton(action, generation_id, index).data)
                   for index in pictures]
        rows += [buttons[i:i + ROW_MAX_BUTTONS] for i in range(0, len(buttons), ROW_MAX_BUTTONS)]
    return InlineKeyboardMarkup(rows)


def model_keyboard(models: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    """One button per catalog model: (id, label)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=callback_data(f"{MODEL_PREFIX}{model_id}"))]
         for model_id, label in models]
    )


def model_id_from(data: str) -> int | None:
    value = (data or "").removeprefix(MODEL_PREFIX)
    return int(value) if value.isdigit() and len(value) <= 19 else None


def shop_keyboard() -> InlineKeyboardMarkup:
    """The way out of a refusal for lack of credits: the packs on sale (as /buy)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(texts.buy_button(), callback_data=SHOP)]])


def make_yours_keyboard(link: str | None) -> InlineKeyboardMarkup | None:
    """Under a shared result: opens the bot with the sharer's referral code."""
    if not link:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(texts.make_yours_button(), url=link)]])
