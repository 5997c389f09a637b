"""/model shows the active catalog as buttons and sets the model the user's messages
generate with."""

import pytest

from generations.models import AIModel, Generation
from telegram_bot.models import BotChat
from tests.helpers import credits_give

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


def buttons(markup: dict) -> list[tuple[str, str]]:
    return [(row[0]["text"], row[0]["callback_data"]) for row in markup["inline_keyboard"]]


def test_model_lists_the_active_catalog_with_the_current_one_ticked(feed, updates, fake_telegram, owner_profile):
    AIModel.objects.filter(slug="flux-pro-ultra").update(is_active=False)

    feed(updates.command(owner_profile, "model"))

    menu = fake_telegram.last("sendMessage")
    assert menu["text"] == "Your messages generate with: Nano Banana.\nChoose a model:"
    listed = buttons(menu["reply_markup"])
    active = list(AIModel.objects.filter(is_active=True).order_by("sort_order", "id"))
    assert [data for _, data in listed] == [f"m:{model.pk}" for model in active]
    assert listed[0][0] == "✓ Nano Banana · 10 credits"
    assert all(not label.startswith("✓") for label, _ in listed[1:])
    assert all(len(data.encode()) <= 64 for _, data in listed)


def test_a_model_button_sets_the_model_and_ticks_it(feed, updates, fake_telegram, owner, owner_profile):
    flux = AIModel.objects.get(slug="flux-schnell")
    feed(updates.command(owner_profile, "model"))
    menu = fake_telegram.last("sendMessage")
    menu_message = fake_telegram.client.message(owner.telegram_id, 1)

    feed(updates.callback(owner_profile, f"m:{flux.pk}", message=menu_message))

    assert BotChat.objects.get(user=owner).model == flux
    answer = fake_telegram.last("answerCallbackQuery")
    assert answer["text"] == "Now generating with FLUX.1 [schnell]."
    edited = fake_telegram.last("editMessageText")
    assert int(edited["message_id"]) == menu_message["message_id"]
    assert edited["text"].startswith("Your messages generate with: FLUX.1 [schnell].")
    assert ("✓ FLUX.1 [schnell] · 3 credits", f"m:{flux.pk}") in buttons(edited["reply_markup"])
    assert menu["reply_markup"] != edited["reply_markup"]

    credits_give(owner, 3)
    feed(updates.text(owner_profile, "a sketch"))
    assert Generation.objects.get(user=owner).model == flux


def test_choosing_the_same_model_again_just_answers(feed, updates, fake_telegram, owner, owner_profile):
    banana = AIModel.objects.get(slug="nano-banana")
    feed(updates.command(owner_profile, "model"))
    menu_message = fake_telegram.client.message(owner.telegram_id, 1)

    feed(updates.callback(owner_profile, f"m:{banana.pk}", message=menu_message))

    assert fake_telegram.last("answerCallbackQuery")["text"] == "Now generating with Nano Banana."
    assert len(fake_telegram.calls_to("editMessageText")) == 1  # Telegram: "not modified", swallowed


def test_a_disabled_model_cannot_be_chosen(feed, updates, fake_telegram, owner, owner_profile):
    flux = AIModel.objects.get(slug="flux-schnell")
    AIModel.objects.filter(pk=flux.pk).update(is_active=False)

    feed(updates.callback(owner_profile, f"m:{flux.pk}"), updates.callback(owner_profile, "m:not-a-number"))

    assert not BotChat.objects.exists()
    answers = fake_telegram.calls_to("answerCallbackQuery")
    assert [a["text"] for a in answers] == ["This model is not available any more. Choose another one with /model."] * 2
    assert all(a["show_alert"] in (True, "true") for a in answers)
