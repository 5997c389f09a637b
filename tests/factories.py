"""Factories (factory_boy) of the suite's objects, in one place.

Money is made the way the services make it, so that `audit_ledger` holds after any
of them: a generation's charge is a ledger row (kind GENERATION_CHARGE, reference
`generation:<id>`) written in the generation's transaction, after granting the user
the price when they lack it; a pending payment carries its signed invoice payload; a
paid one goes through `payment_confirm` (credits and the referrer's commission through
their ledgers).

Defaults are the models' own (an empty username, no language) except for what must be
unique, so a test that names a field says what matters to it.
"""

import itertools
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from factory.declarations import LazyAttribute, LazyAttributeSequence, LazyFunction, SelfAttribute, Sequence, SubFactory
from factory.django import DjangoModelFactory

from accounts.models import CreditKind, User
from accounts.services import credits_apply, credits_change, user_lock
from generations.models import AIModel, Generation
from generations.services.lifecycle import generation_reference
from payments.models import CreditPack, Payment
from payments.services import invoice_payload_for, payment_confirm
from promotions.models import PromoCode
from telegram_bot.broadcasts.models import Broadcast

_charges = itertools.count(1)


def charge_id_new() -> str:
    """A Telegram charge id nobody has used yet."""
    return f"stxTEST{next(_charges):06d}"


class UserFactory(DjangoModelFactory[User]):
    """A Telegram user (created directly: no signup bonus, no referral)."""

    class Meta:
        model = User

    telegram_id = Sequence(lambda n: 8_000_000 + n)


class AIModelFactory(DjangoModelFactory[AIModel]):
    """An active catalog entry of the AIML API provider unless told otherwise."""

    class Meta:
        model = AIModel

    kind = AIModel.Kind.IMAGE
    slug = LazyAttributeSequence(lambda model, n: f"test-{model.kind}-{n}")
    name = LazyAttributeSequence(lambda model, n: f"Test {model.kind} {n}")
    provider = AIModel.Provider.AIMLAPI
    # Ids the AIML API documents (its fake refuses others).
    provider_model_id = LazyAttribute(
        lambda model: "flux/schnell" if model.kind == AIModel.Kind.IMAGE else "klingai/v2.1-master-text-to-video"
    )
    price = 3


class CreditPackFactory(DjangoModelFactory[CreditPack]):
    class Meta:
        model = CreditPack

    slug = Sequence(lambda n: f"test-pack-{n}")
    title = LazyAttribute(lambda pack: f"{pack.credits} credits")
    stars = 100
    credits = 120


class PaymentFactory(DjangoModelFactory[Payment]):
    """A pending payment as the invoice endpoint leaves it (without calling Telegram):
    the pack's price and credits, and the invoice payload signed for this row."""

    class Meta:
        model = Payment

    user = SubFactory(UserFactory)
    pack = SubFactory(CreditPackFactory)
    stars = SelfAttribute("pack.stars")
    credits = SelfAttribute("pack.credits")

    @classmethod
    def _create(cls, model_class: type[Payment], *args: Any, **kwargs: Any) -> Payment:
        payment = super()._create(model_class, *args, **kwargs)
        # The signature covers the row's id: it can only be made once the row exists.
        payment.invoice_payload = invoice_payload_for(payment)
        payment.invoice_link = f"https://t.me/$test{payment.pk}"
        payment.save()
        return payment


class PaidPaymentFactory(PaymentFactory):
    """A payment paid through the real confirmation service, with a fresh charge id."""

    @classmethod
    def _create(cls, model_class: type[Payment], *args: Any, **kwargs: Any) -> Payment:
        payment = super()._create(model_class, *args, **kwargs)
        buyer_telegram_id = payment.user.telegram_id
        if buyer_telegram_id is None:
            raise ValueError("only a Telegram user pays")
        return payment_confirm(
            telegram_user_id=buyer_telegram_id,
            payload=payment.invoice_payload,
            currency="XTR",
            total_amount=payment.stars,
            telegram_payment_charge_id=charge_id_new(),
            provider_payment_charge_id="",
        )


class GenerationFactory(DjangoModelFactory[Generation]):
    """A generation charged its model's price, made as the start service makes it: in one
    transaction under the user's row lock, the generation and its ledger debit. The user
    is granted the price first when they lack it. Pending unless `status` says otherwise."""

    class Meta:
        model = Generation

    user = SubFactory(UserFactory)
    model = SubFactory(AIModelFactory)
    kind = SelfAttribute("model.kind")
    prompt = "a red fox in the snow"
    params = LazyFunction(dict)
    credits_charged = SelfAttribute("model.price")
    timeout_at = LazyFunction(
        lambda: timezone.now() + timedelta(seconds=settings.GENERATION_TIMEOUT_SECONDS)
    )

    @classmethod
    def _create(cls, model_class: type[Generation], *args: Any, **kwargs: Any) -> Generation:
        user: User = kwargs["user"]
        price: int = kwargs["credits_charged"]
        with transaction.atomic():
            locked = user_lock(user_id=user.pk)
            if locked.credits < price:
                credits_change(user_id=user.pk, amount=price - locked.credits, kind=CreditKind.GRANT, note="test")
                locked = user_lock(user_id=user.pk)
            generation = super()._create(model_class, *args, **kwargs)
            credits_apply(
                user=locked,
                amount=-price,
                kind=CreditKind.GENERATION_CHARGE,
                reference=generation_reference(generation.pk),
            )
        return generation


# --- promotions and broadcasts ----------------------------------------------------------------


class PromoCodeFactory(DjangoModelFactory[PromoCode]):
    """A promo code as staff make it in the admin (the code given stored as it is: pass it
    normalised, in upper case)."""

    class Meta:
        model = PromoCode

    code = Sequence(lambda n: f"TEST{n}")
    credits = 25
    max_redemptions = 100


class BroadcastFactory(DjangoModelFactory[Broadcast]):
    """A draft broadcast, previewed so that it may start (`previewed_at=None`: not yet)."""

    class Meta:
        model = Broadcast

    title = Sequence(lambda n: f"Broadcast {n}")
    text = "<b>News</b>: something new in NanoGen"
    previewed_at = LazyFunction(timezone.now)


def recipients_create(count: int, *, first_telegram_id: int = 300_000, **fields: Any) -> list[User]:
    """`count` Telegram users the bot can write to, in one INSERT (a broadcast's audience)."""
    users = [User(telegram_id=first_telegram_id + i, first_name=f"R{i}", language_code="en",
                  referral_code=f"r{first_telegram_id + i}", **fields) for i in range(count)]
    return User.objects.bulk_create(users)
