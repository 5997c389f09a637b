"""A text message to the bot starts a generation with the user's bot model, charged
once however often the update arrives, and the bot answers at once with a status
message."""

import pytest

from accounts.models import User
from generations.models import AIModel, Generation
from telegram_bot.models import StatusMessage
from tests.helpers import credits_give, run_in_threads
from tests.telegram_bot.helpers import generation_charges

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

NANO_BANANA_PRICE = 10  # the default catalog's



def test_a_text_starts_a_generation_with_the_default_model_and_a_status_message(
        feed, updates, fake_telegram, owner, owner_profile, audit_passes):
    credits_give(owner, 25)
    message = updates.text(owner_profile, "a red fox in the snow")

    feed(message)

    generation = Generation.objects.get(user=owner)
    assert (generation.model.slug, generation.prompt, generation.status) == ("nano-banana", "a red fox in the snow",
                                                                             "pending")
    assert generation.idempotency_key == f"tg:msg:{owner.telegram_id}:{message['message']['message_id']}"
    owner.refresh_from_db()
    assert owner.credits == 25 - NANO_BANANA_PRICE
    (status,) = fake_telegram.calls_to("sendMessage")
    assert int(status["chat_id"]) == owner.telegram_id
    assert status["text"] == "⏳ Nano Banana: queued (10 credits)"
    row = StatusMessage.objects.get(pk=generation.pk)
    assert (row.chat_id, row.shown) == (owner.telegram_id, "queued")
    assert row.message_id == fake_telegram.client.message(owner.telegram_id, row.message_id)["message_id"]


def test_the_same_update_delivered_again_charges_once(feed, updates, fake_telegram, owner, owner_profile,
                                                      audit_passes):
    credits_give(owner, 100)
    message = updates.text(owner_profile, "a lighthouse")

    feed(message, message)

    assert Generation.objects.filter(user=owner).count() == 1
    assert generation_charges(owner) == 1
    assert len(fake_telegram.calls_to("sendMessage")) == 1


@pytest.mark.django_db(transaction=True)
def test_one_message_in_two_updates_at_once_starts_one_generation(feed, updates, fake_telegram, owner,
                                                                  owner_profile, audit_passes):
    """The update-id check cannot help here (two ids, or a store that hands one update
    out twice): the idempotency key from the chat and the message holds on its own."""
    credits_give(owner, 100)
    first = updates.text(owner_profile, "a lighthouse in a storm")
    second = {**first, "update_id": first["update_id"] + 1000}

    run_in_threads(2, lambda i: feed([first, second][i]))

    assert Generation.objects.filter(user=owner).count() == 1
    assert generation_charges(owner) == 1
    owner.refresh_from_db()
    assert owner.credits == 100 - NANO_BANANA_PRICE
    assert len(fake_telegram.calls_to("sendMessage")) == 1  # one status message, no refusal


def test_the_model_chosen_with_model_is_used(feed, updates, fake_telegram, owner, owner_profile):
    from telegram_bot.models import BotChat

    flux = AIModel.objects.get(slug="flux-schnell")
    BotChat.objects.create(user=owner, model=flux)
    credits_give(owner, 10)

    feed(updates.text(owner_profile, "a sketch of a cat"))

    assert Generation.objects.get(user=owner).model == flux
    assert fake_telegram.last("sendMessage")["text"] == "⏳ FLUX.1 [schnell]: queued (3 credits)"


def test_without_credits_nothing_starts_and_a_buy_button_is_offered(feed, updates, fake_telegram, owner,
                                                                   owner_profile, packs, audit_passes):
    credits_give(owner, 4)

    feed(updates.text(owner_profile, "a red fox"))

    assert not Generation.objects.exists()
    reply = fake_telegram.last("sendMessage")
    assert reply["text"] == "Not enough credits: this costs 10 credits, your balance is 4 credits. Top up with /buy."
    assert reply["reply_markup"] == {"inline_keyboard": [[{"text": "Buy credits", "callback_data": "shop"}]]}

    # The button shows the packs, as /buy does.
    feed(updates.callback(owner_profile, "shop", message=fake_telegram.last("sendMessage").params | {
        "message_id": 1, "chat": {"id": owner.telegram_id, "type": "private"}, "date": 0}))
    assert fake_telegram.last("sendMessage")["text"] == "Choose a credit pack. You pay with Telegram Stars."
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 1


def test_refusals_are_in_the_users_language(feed, updates, fake_telegram, owner, owner_profile):
    owner_profile["language_code"] = "ru"

    feed(updates.text(owner_profile, "рыжая лиса"))

    reply = fake_telegram.last("sendMessage")
    assert reply["text"].startswith("Недостаточно кредитов")
    assert reply["reply_markup"]["inline_keyboard"][0][0]["text"] == "Купить кредиты"


def test_the_rate_limit_says_when_to_try_again(feed, updates, fake_telegram, owner, owner_profile, bot_settings):
    bot_settings.GENERATION_RATE_LIMIT_PER_MINUTE = 1
    credits_give(owner, 100)

    feed(updates.text(owner_profile, "one"), updates.text(owner_profile, "two"))

    assert Generation.objects.filter(user=owner).count() == 1
    refusal = fake_telegram.last("sendMessage")["text"]
    assert refusal.startswith("Too many generations in the last minute. Try again in ")
    assert refusal.endswith(" seconds.") or refusal.endswith(" second.")


def test_the_active_limit_says_to_wait_for_one_to_finish(feed, updates, fake_telegram, owner, owner_profile,
                                                        bot_settings):
    bot_settings.GENERATION_MAX_ACTIVE = 1
    credits_give(owner, 100)

    feed(updates.text(owner_profile, "one"), updates.text(owner_profile, "two"))

    assert Generation.objects.filter(user=owner).count() == 1
    assert fake_telegram.last("sendMessage")["text"] == (
        "You already have 1 generation in progress. Send it again when it has finished.")


def test_a_banned_user_starts_nothing(feed, updates, fake_telegram, owner, owner_profile):
    User.objects.filter(pk=owner.pk).update(is_banned=True)
    credits_give(owner, 100)

    feed(updates.text(owner_profile, "a red fox"))

    assert not Generation.objects.exists()
    assert fake_telegram.last("sendMessage")["text"] == "Your account is banned."


def test_a_chosen_model_that_was_disabled_points_at_model(feed, updates, fake_telegram, owner, owner_profile):
    from telegram_bot.models import BotChat

    flux = AIModel.objects.get(slug="flux-schnell")
    BotChat.objects.create(user=owner, model=flux)
    AIModel.objects.filter(pk=flux.pk).update(is_active=False)
    credits_give(owner, 100)

    feed(updates.text(owner_profile, "a red fox"))

    assert not Generation.objects.exists()
    assert fake_telegram.last("sendMessage")["text"] == (
        "This model is not available any more. Choose another one with /model.")


def test_a_prompt_over_the_limit_is_refused_with_the_reason(feed, updates, fake_telegram, owner, owner_profile,
                                                            bot_settings):
    bot_settings.GENERATION_PROMPT_MAX_LENGTH = 10
    credits_give(owner, 100)

    feed(updates.text(owner_profile, "a very long description of a fox"))

    assert not Generation.objects.exists()
    assert fake_telegram.last("sendMessage")["text"] == (
        "This cannot be generated: Ensure this field has no more than 10 characters.")


def test_when_the_status_message_cannot_be_sent_the_generation_still_runs(feed, updates, fake_telegram, owner,
                                                                         owner_profile, audit_passes):
    credits_give(owner, 10)
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error", times=1)

    feed(updates.text(owner_profile, "a red fox"))

    generation = Generation.objects.get(user=owner)
    assert generation.status == "pending"
    assert StatusMessage.objects.get(pk=generation.pk).message_id is None
