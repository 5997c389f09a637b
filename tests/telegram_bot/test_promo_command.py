"""/promo CODE in the bot: the same redemption as the app (once per user, capped,
rate-limited), answered in the user's language; and through the real webhook."""

import sys

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from promotions.models import PromoRedemption
from tests.factories import PromoCodeFactory
from tests.fakes.telegram_updates import TelegramUpdates, telegram_profile
from tests.telegram_bot.runbot import RunBot, bot_env, free_port


@pytest.mark.django_db
def test_promo_grants_the_credits_once(feed, updates, fake_telegram, owner, owner_profile, audit_passes):
    PromoCodeFactory.create(code="BOT10", credits=10)

    feed(updates.command(owner_profile, "promo", "bot10"))
    assert fake_telegram.last("sendMessage")["text"] == "Promo code accepted: +10 credits. Your balance: 10 credits."

    feed(updates.command(owner_profile, "promo", "BOT10"))
    assert fake_telegram.last("sendMessage")["text"] == "You have already used this promo code."
    owner.refresh_from_db()
    assert owner.credits == 10
    assert CreditLedgerEntry.objects.get(user=owner).kind == CreditKind.PROMO


@pytest.mark.django_db
def test_promo_refusals_in_russian(feed, updates, fake_telegram, owner, owner_profile, audit_passes):
    owner_profile["language_code"] = "ru"
    PromoCodeFactory.create(code="GONE", max_redemptions=1)
    feed(updates.command(owner_profile, "promo", "nope"))
    assert fake_telegram.last("sendMessage")["text"] == "Такого промокода нет или он больше не действует."
    feed(updates.command(owner_profile, "promo"))
    assert fake_telegram.last("sendMessage")["text"] == (
        "Отправьте код после команды, например: /promo SPRING25")


@pytest.mark.django_db
def test_the_bot_shares_the_apps_rate_limit(feed, updates, fake_telegram, owner, owner_profile, owner_client,
                                           settings, audit_passes):
    settings.PROMO_RATE_LIMIT_ATTEMPTS = 2
    PromoCodeFactory.create(code="REAL")
    owner_client.post("/api/promo/redeem", {"code": "GUESS1"}, format="json")
    feed(updates.command(owner_profile, "promo", "GUESS2"))
    feed(updates.command(owner_profile, "promo", "REAL"))
    assert fake_telegram.last("sendMessage")["text"] == "Too many promo code attempts. Please try again later."
    assert not PromoRedemption.objects.exists()


@pytest.mark.django_db
def test_a_banned_user_gets_nothing(feed, updates, fake_telegram, owner, owner_profile, audit_passes):
    owner.is_banned = True
    owner.save(update_fields=["is_banned"])
    PromoCodeFactory.create(code="FREE")
    feed(updates.command(owner_profile, "promo", "FREE"))
    assert fake_telegram.last("sendMessage")["text"] == "Your account is banned."
    assert not PromoRedemption.objects.exists()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_promo_through_the_real_webhook(tmp_path, fake_telegram, owner, audit_passes):
    PromoCodeFactory.create(code="HOOK", credits=15, max_redemptions=5)
    port = free_port()
    bot = RunBot(log=tmp_path / "runbot.log", env=bot_env(fake_telegram.base_url, TELEGRAM_WEBHOOK_PORT=str(port)),
                 port=port)
    bot.start()
    try:
        bot.wait_serving()
        updates = TelegramUpdates(first_update_id=700_001)
        profile = telegram_profile(owner.telegram_id, first_name="Owner")
        redeem_update = updates.command(profile, "promo", " hook")
        assert bot.post(redeem_update).status_code == 200
        (reply,) = fake_telegram.wait_for("sendMessage")
        assert reply["text"] == "Promo code accepted: +15 credits. Your balance: 15 credits."
        assert int(reply["chat_id"]) == owner.telegram_id

        # Telegram delivers it again: dropped; a new /promo of the same code is refused.
        assert bot.post(redeem_update).status_code == 200
        bot.wait_logged(f"update {redeem_update['update_id']} delivered again: dropped")
        assert bot.post(updates.command(profile, "promo", "HOOK")).status_code == 200
        replies = fake_telegram.wait_for("sendMessage", count=2)
        assert replies[1]["text"] == "You have already used this promo code."
    finally:
        bot.kill()
        sys.stdout.write(bot.output()[-4000:])
    owner.refresh_from_db()
    assert owner.credits == 15
    assert PromoRedemption.objects.filter(user=owner).count() == 1
