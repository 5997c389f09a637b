"""Inline mode: `@bot words` lists the asking user's own results whose prompt has the
words, personal and briefly cached, page by page."""

import pytest

from telegram_bot.models import ResultMessage
from telegram_bot.tasks import generation_notify
from tests.fakes.telegram_updates import telegram_profile
from tests.helpers import STRANGER_TELEGRAM_ID
from tests.telegram_bot.helpers import generation_finished

pytestmark = pytest.mark.django_db


def delivered(user, prompt: str):
    generation = generation_finished(user, prompt=prompt)
    assert generation_notify(generation.pk) == "sent"
    return generation


def test_only_the_callers_own_results_matching_every_word(feed, updates, fake_telegram, owner, owner_profile,
                                                         stranger):
    fox = delivered(owner, "a red Fox in the snow")
    delivered(owner, "a red car")
    delivered(stranger, "a red fox too")  # somebody else's: never listed
    generation_finished(owner, status="failed", prompt="a red fox that failed")

    feed(updates.inline_query(owner_profile, "fox RED"))

    answer = fake_telegram.last("answerInlineQuery")
    assert answer["is_personal"] in (True, "true")
    assert int(answer["cache_time"]) == 10
    (result,) = answer["results"]
    assert (result["type"], result["id"], result["caption"]) == ("photo", f"{fox.pk}-0", "a red Fox in the snow")
    assert result["photo_file_id"] == ResultMessage.objects.get(generation=fox).file_id
    assert result["reply_markup"] == {"inline_keyboard": [[{
        "text": "Make yours", "url": f"https://t.me/nanogen_test_bot?start=ref_{owner.referral_code}"}]]}
    assert answer.get("next_offset", "") == ""
    assert answer["button"] == {"text": "Create a new one in the bot", "start_parameter": "inline"}


def test_results_come_page_by_page_newest_first(feed, updates, fake_telegram, owner, owner_profile, bot_settings):
    bot_settings.BOT_INLINE_PAGE_SIZE = 2
    generations = [delivered(owner, f"cat number {i}") for i in range(3)]

    feed(updates.inline_query(owner_profile, ""))
    first = fake_telegram.last("answerInlineQuery")
    feed(updates.inline_query(owner_profile, "", offset=first["next_offset"]))
    second = fake_telegram.last("answerInlineQuery")

    assert [r["id"] for r in first["results"]] == [f"{generations[2].pk}-0", f"{generations[1].pk}-0"]
    assert first["next_offset"] == "2"
    assert [r["id"] for r in second["results"]] == [f"{generations[0].pk}-0"]
    assert second.get("next_offset", "") == "" and "button" not in second.params


def test_a_stranger_to_the_bot_gets_nothing_but_the_button(feed, updates, fake_telegram, owner):
    delivered(owner, "a red fox")

    feed(updates.inline_query(telegram_profile(STRANGER_TELEGRAM_ID + 5), "fox", offset="not-a-number"))

    answer = fake_telegram.last("answerInlineQuery")
    assert answer["results"] == [] and answer["button"]["start_parameter"] == "inline"
