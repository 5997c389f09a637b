"""End to end: `manage.py runbot` in webhook mode and a real `manage.py qcluster`,
both against the fake Bot API, the user generating in the chat: a text message, its
redelivery, the buttons under the result (a double tap, somebody else's tap), inline
mode. The ledger audit is clean after each step."""

from typing import Any

import pytest
from django.core.management import call_command

from generations.models import Generation
from telegram_bot.models import GenerationNotification, StatusMessage
from tests.fakes.telegram_updates import TelegramUpdates, telegram_profile
from tests.helpers import STRANGER_TELEGRAM_ID, credits_give
from tests.telegram_bot.helpers import generation_charges
from tests.telegram_bot.runbot import qcluster_for_chat, runbot_serving, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PRICE = 10  # nano-banana in the `catalog` fixture


@pytest.fixture
def bot(tmp_path, fake_telegram):
    with runbot_serving(tmp_path, fake_telegram.base_url) as bot:
        yield bot


@pytest.fixture
def worker(tmp_path, fake_telegram):
    with qcluster_for_chat(tmp_path, fake_telegram.base_url) as process:
        yield process


def audit_clean() -> None:
    call_command("audit_ledger")  # exits non-zero (SystemExit) when a money rule is broken


def result_message(fake_telegram, generation: Generation) -> dict[str, Any]:
    notification = GenerationNotification.objects.get(pk=generation.pk)
    return fake_telegram.client.message(generation.user.telegram_id, notification.telegram_message_id)


@pytest.mark.usefixtures("catalog")
def test_generating_in_the_chat_end_to_end(bot, worker, fake_telegram, owner, stranger):
    updates = TelegramUpdates(first_update_id=700_001)
    profile = telegram_profile(owner.telegram_id, first_name="Owner")
    credits_give(owner, 5 * PRICE)

    # 1. A text message: one generation, one charge, the status message edited to done, one photo.
    text = updates.text(profile, "a lighthouse in a storm")
    assert bot.post(text).status_code == 200
    (photo,) = fake_telegram.wait_for("sendPhoto", timeout=30)
    (generation,) = Generation.objects.select_related("user").filter(user=owner)
    assert (generation.status, generation.prompt) == ("completed", "a lighthouse in a storm")
    assert generation_charges(owner) == 1
    assert photo["caption"] == "a lighthouse in a storm"
    assert [b["text"] for b in photo["reply_markup"]["inline_keyboard"][0]] == ["🔁 Again", "📎 File"]
    status = StatusMessage.objects.get(pk=generation.pk)
    wait_until(lambda: StatusMessage.objects.get(pk=generation.pk).shown == "done", what="the status message")
    (queued_text,) = [c["text"] for c in fake_telegram.calls_to("sendMessage")]
    assert queued_text == "⏳ Nano Banana: queued (10 credits)"
    edited = [c["text"] for c in fake_telegram.calls_to("editMessageText") if int(c["message_id"]) == status.message_id]
    assert edited[-1] == "✅ Nano Banana: done"
    assert edited in (["🎨 Nano Banana: generating…", "✅ Nano Banana: done"], ["✅ Nano Banana: done"])
    audit_clean()

    # 2. Telegram delivers the same update again: dropped, nothing charged.
    assert bot.post(text).status_code == 200
    bot.wait_logged(f"update {text['update_id']} delivered again: dropped")
    assert (Generation.objects.filter(user=owner).count(), generation_charges(owner)) == (1, 1)

    # 3. Again, tapped twice: one more generation, one more photo.
    message = result_message(fake_telegram, generation)
    for _ in range(2):
        assert bot.post(updates.callback(profile, f"r:a:{generation.pk}:0", message=message)).status_code == 200
    fake_telegram.wait_for("sendPhoto", count=2, timeout=30)
    fake_telegram.wait_for("answerCallbackQuery", count=2)
    again = Generation.objects.exclude(pk=generation.pk).get(user=owner)
    assert (again.prompt, again.model_id, generation_charges(owner)) == (generation.prompt, generation.model_id, 2)
    audit_clean()

    # 4. File: the original as a document.
    assert bot.post(updates.callback(profile, f"r:f:{generation.pk}:0", message=message)).status_code == 200
    (document,) = fake_telegram.wait_for("sendDocument", timeout=30)
    with generation.result_file.open("rb") as original:
        assert document["document"].content == original.read()

    # 5. Somebody else taps the owner's button (the result shared into a group): refused, nothing started.
    fake_telegram.wait_for("answerCallbackQuery", count=3)
    intruder = telegram_profile(STRANGER_TELEGRAM_ID, first_name="Stranger")
    credits_give(stranger, 100)
    assert bot.post(updates.callback(intruder, f"r:a:{generation.pk}:0", message=message)).status_code == 200
    answers = fake_telegram.wait_for("answerCallbackQuery", count=4)
    assert answers[-1]["text"] == "This button belongs to somebody else's result."
    assert not Generation.objects.filter(user=stranger).exists()

    # 6. Inline mode lists the caller's own results only.
    assert bot.post(updates.inline_query(profile, "lighthouse")).status_code == 200
    (mine,) = fake_telegram.wait_for("answerInlineQuery")
    assert bot.post(updates.inline_query(intruder, "lighthouse")).status_code == 200
    _, theirs = fake_telegram.wait_for("answerInlineQuery", count=2)
    assert {r["id"] for r in mine["results"]} == {f"{generation.pk}-0", f"{again.pk}-0"}
    assert theirs["results"] == []

    assert Generation.objects.count() == 2
    owner.refresh_from_db()
    assert owner.credits == 5 * PRICE - 2 * PRICE
    audit_clean()
