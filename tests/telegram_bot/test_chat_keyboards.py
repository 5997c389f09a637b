"""Callback data names ids, never payloads, and always fits Telegram's 64 bytes."""

import pytest

from telegram_bot.chat.keyboards import ResultAction, ResultButton, callback_data, model_keyboard, result_keyboard

BIGGEST_ID = 2**63 - 1


def test_result_buttons_round_trip_and_fit_for_the_largest_ids():
    for button in (ResultButton(ResultAction.AGAIN, BIGGEST_ID, 99), ResultButton(ResultAction.FILE, BIGGEST_ID),
                   ResultButton(ResultAction.EDIT, BIGGEST_ID, 99), ResultButton(ResultAction.ANIMATE, BIGGEST_ID, 9)):
        assert ResultButton.parse(button.data) == button
        assert len(button.data.encode()) <= 64
    for keyboard in (result_keyboard(generation_id=BIGGEST_ID, position=0, pictures=[0]),
                     result_keyboard(generation_id=BIGGEST_ID, position=None, pictures=range(10))):
        assert all(len(str(b.callback_data).encode()) <= 64 for row in keyboard.inline_keyboard for b in row)
    assert model_keyboard([(BIGGEST_ID, "x")]).inline_keyboard[0][0].callback_data == f"m:{BIGGEST_ID}"


@pytest.mark.parametrize("data", ["", "r:a:", "r:x:1", "r:a:1:2:3", "r:a:-1", "buy:small", "r:a:1" + "0" * 30])
def test_anything_else_is_not_a_result_button(data):
    assert ResultButton.parse(data) is None


def test_data_over_64_bytes_is_a_bug_caught_at_once():
    with pytest.raises(ValueError, match="over 64 bytes"):
        callback_data("r:" + "9" * 63)


def test_edit_and_animate_only_under_pictures_numbered_under_an_album():
    def rows(keyboard) -> list[list[str]]:
        return [[str(button.callback_data) for button in row] for row in keyboard.inline_keyboard]

    assert rows(result_keyboard(generation_id=7, position=0)) == [["r:a:7:0", "r:f:7:0"]]  # a video
    assert rows(result_keyboard(generation_id=7, position=0, pictures=[0])) == [
        ["r:a:7:0", "r:f:7:0"], ["r:e:7:0", "r:v:7:0"]]
    album = result_keyboard(generation_id=7, position=None, pictures=[0, 1, 2])
    assert rows(album) == [["r:a:7", "r:f:7"], ["r:e:7:0", "r:e:7:1", "r:e:7:2"], ["r:v:7:0", "r:v:7:1", "r:v:7:2"]]
    assert [b.text for b in album.inline_keyboard[1]] == ["✏️ 1", "✏️ 2", "✏️ 3"]
