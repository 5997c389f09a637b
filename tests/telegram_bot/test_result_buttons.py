"""The buttons under a result: Again starts the same generation once per tap (a
double tap is one), File sends the original as a document; a button of somebody
else's result, or of a deleted one, does nothing but say so. Every callback query
is answered."""

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import Generation
from telegram_bot.models import GenerationNotification, ResultMessage
from telegram_bot.tasks import generation_notify
from tests.fakes.telegram_updates import telegram_profile
from tests.helpers import STRANGER_TELEGRAM_ID, credits_give, run_in_threads
from tests.telegram_bot.helpers import generation_finished, png_bytes
from tests.telegram_bot.queue import queued, queued_run

pytestmark = pytest.mark.django_db

FILES = "telegram_bot.tasks.result_files_send"


@pytest.fixture
def delivered(owner, bot_settings, fake_telegram) -> tuple[Generation, dict]:
    """A completed generation of the owner with params, sent to them: (generation, the photo message)."""
    generation = generation_finished(owner, prompt="a red fox in the snow", data=png_bytes((16, 16)))
    from generations.models import AIModel

    AIModel.objects.filter(pk=generation.model_id).update(
        params_schema={"size": {"type": "choice", "choices": ["small", "big"], "default": "small"}})
    Generation.objects.filter(pk=generation.pk).update(params={"size": "big"})
    assert generation_notify(generation.pk) == "sent"
    notification = GenerationNotification.objects.get(pk=generation.pk)
    return generation, fake_telegram.client.message(owner.telegram_id, notification.telegram_message_id)


def answers(fake_telegram) -> list[tuple[str | None, bool]]:
    return [(call.get("text"), call.get("show_alert") in (True, "true"))
            for call in fake_telegram.calls_to("answerCallbackQuery")]


def test_the_result_keeps_telegrams_file_id(delivered):
    generation, photo = delivered
    (sent,) = ResultMessage.objects.filter(generation=generation)
    assert (sent.position, sent.kind, sent.message_id) == (0, "photo", photo["message_id"])
    assert sent.file_id == photo["photo"][-1]["file_id"]


def test_again_starts_the_same_generation_once_per_button(feed, updates, fake_telegram, owner, owner_profile,
                                                          delivered, audit_passes):
    generation, photo = delivered
    credits_give(owner, 30)
    tap = updates.callback(owner_profile, f"r:a:{generation.pk}:0", message=photo)
    second_tap = updates.callback(owner_profile, f"r:a:{generation.pk}:0", message=photo)  # a new callback id

    feed(tap, second_tap)

    again = Generation.objects.exclude(pk=generation.pk).get(user=owner)
    assert (again.model_id, again.prompt, again.params) == (generation.model_id, generation.prompt, {"size": "big"})
    assert again.status == "pending"
    assert CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.GENERATION_CHARGE).count() == 2
    assert answers(fake_telegram) == [("Started: the result comes in this chat.", False),
                                      ("Already started from this button: the result comes in this chat.", False)]
    (status,) = fake_telegram.calls_to("sendMessage")
    assert status["text"].startswith("⏳ ") and status["text"].endswith(": queued (10 credits)")


@pytest.mark.django_db(transaction=True)
def test_a_double_tap_at_the_same_moment_starts_one(feed, updates, fake_telegram, owner, owner_profile, delivered,
                                                    audit_passes):
    generation, photo = delivered
    credits_give(owner, 30)
    taps = [updates.callback(owner_profile, f"r:a:{generation.pk}:0", message=photo) for _ in range(2)]

    run_in_threads(2, lambda i: feed(taps[i]))

    assert Generation.objects.filter(user=owner).count() == 2  # the original and one more
    assert CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.GENERATION_CHARGE).count() == 2
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 2


def test_again_without_credits_offers_the_shop_and_answers(feed, updates, fake_telegram, owner_profile, delivered):
    generation, photo = delivered

    feed(updates.callback(owner_profile, f"r:a:{generation.pk}:0", message=photo))

    assert Generation.objects.count() == 1
    refusal = fake_telegram.last("sendMessage")
    assert refusal["text"].startswith("Not enough credits")
    assert refusal["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "shop"
    assert answers(fake_telegram) == [(None, False)]


def test_file_sends_the_original_as_a_document_once_per_tap(feed, updates, fake_telegram, owner, owner_profile,
                                                            delivered):
    generation, photo = delivered
    tap = updates.callback(owner_profile, f"r:f:{generation.pk}:0", message=photo)
    double = updates.callback(owner_profile, f"r:f:{generation.pk}:0", message=photo)

    feed(tap, double)

    assert len(queued(FILES)) == 1
    assert len(answers(fake_telegram)) == 2
    assert queued_run(FILES) == ["sent"]
    (document,) = fake_telegram.calls_to("sendDocument")
    assert int(document["chat_id"]) == owner.telegram_id
    assert document["document"].content == png_bytes((16, 16))
    assert document["document"].filename.endswith(".png")


def test_somebody_elses_button_does_nothing_but_say_so(feed, updates, fake_telegram, delivered, stranger):
    generation, photo = delivered
    stranger_profile = telegram_profile(STRANGER_TELEGRAM_ID, first_name="Stranger")
    credits_give(stranger, 100)

    feed(updates.callback(stranger_profile, f"r:a:{generation.pk}:0", message=photo),
         updates.callback(stranger_profile, f"r:f:{generation.pk}:0", message=photo))

    assert Generation.objects.count() == 1
    assert not queued(FILES)
    assert not fake_telegram.calls_to("sendMessage")
    assert answers(fake_telegram) == [("This button belongs to somebody else's result.", True)] * 2


def test_a_button_of_a_deleted_generation_says_so(feed, updates, fake_telegram, owner_profile, delivered):
    generation, photo = delivered
    CreditLedgerEntry.objects.filter(reference=f"generation:{generation.pk}").delete()
    Generation.objects.filter(pk=generation.pk).delete()

    feed(updates.callback(owner_profile, f"r:a:{generation.pk}:0", message=photo))

    assert not Generation.objects.exists()
    assert answers(fake_telegram) == [("This result no longer exists.", True)]


def test_buttons_nobody_knows_are_still_answered(feed, updates, fake_telegram, owner_profile):
    feed(updates.callback(owner_profile, "r:zz:1"), updates.callback(owner_profile, "something-old"))

    assert answers(fake_telegram) == [(None, False), (None, False)]


def test_a_banned_users_buttons_do_nothing(feed, updates, fake_telegram, owner, owner_profile, delivered):
    from accounts.models import User

    generation, photo = delivered
    credits_give(owner, 30)
    User.objects.filter(pk=owner.pk).update(is_banned=True)

    feed(updates.callback(owner_profile, f"r:a:{generation.pk}:0", message=photo),
         updates.callback(owner_profile, f"r:f:{generation.pk}:0", message=photo))

    assert Generation.objects.count() == 1 and not queued(FILES)
    assert answers(fake_telegram) == [("Your account is banned.", True)] * 2


def test_a_button_whose_handler_fails_is_still_answered(feed, updates, fake_telegram, owner_profile, delivered):
    generation, photo = delivered
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error", times=1)

    feed(updates.callback(owner_profile, f"r:a:{generation.pk}:0", message=photo))  # the refusal fails to send

    assert answers(fake_telegram) == [(None, False)]
    assert fake_telegram.last("sendMessage")["text"].startswith("Something went wrong")
