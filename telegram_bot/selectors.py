"""Reads of the bot."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from accounts.models import User
from core.errors import NotFound
from generations.models import AIModel, Generation
from generations.selectors import model_list_active
from payments.selectors import pack_list_on_sale, referral_invite_link
from telegram_bot.errors import ButtonNotYours
from telegram_bot.models import BotChat, ChatAlbum, ResultMessage


@dataclass(frozen=True)
class PackOffer:
    slug: str
    title: str
    title_ru: str
    stars: int
    credits: int

    def title_for(self, language: str) -> str:
        return self.title_ru if language == "ru" and self.title_ru else self.title


def pack_offers() -> list[PackOffer]:
    """The one-time credit packs on sale, in the shop's order. Subscriptions are sold
    in the Mini App: sendInvoice cannot make one (only createInvoiceLink can)."""
    return [
        PackOffer(slug=p.slug, title=p.title, title_ru=p.title_ru, stars=p.stars, credits=p.credits)
        for p in pack_list_on_sale().filter(period_days__isnull=True)
    ]


def user_credits(*, user_id: int) -> int:
    return User.objects.values_list("credits", flat=True).get(pk=user_id)


# --- the bot as a client ------------------------------------------------------------------------


def bot_model_slug(*, user: User) -> str:
    """The model the user's messages generate with: their choice, else BOT_DEFAULT_MODEL.

    A chosen model that staff disabled stays chosen: the start then says it is not
    available and points at /model, instead of silently charging another price.
    """
    slug = BotChat.objects.filter(user=user, model__isnull=False).values_list("model__slug", flat=True).first()
    return slug or settings.BOT_DEFAULT_MODEL


def input_model(*, user: User, kind: str = "") -> AIModel | None:
    """The catalog model that takes the images a user sends or picks in the chat:
    their bot model when it takes images (and is of `kind`, when given), else the
    first active model of `kind` (an image model when none is given) that takes
    images, in the catalog's order; None when no active model takes images.

    So a photo with a caption edits with the user's model when it can (an
    image-to-video model animates it), and with the catalog's first editing model
    otherwise; the Edit button always edits (an image model), Animate animates (a
    video model)."""
    takes_images = AIModel.objects.filter(is_active=True, images_max__gt=0).order_by("sort_order", "id")
    chosen = takes_images.filter(slug=bot_model_slug(user=user))
    if kind:
        chosen = chosen.filter(kind=kind)
    return chosen.first() or takes_images.filter(kind=kind or AIModel.Kind.IMAGE).first()


def album_due_at(*, album_id: int) -> datetime | None:
    """When an album the user is sending is complete unless another photo comes; None
    once it is no longer collecting photos."""
    return (ChatAlbum.objects.filter(pk=album_id, status=ChatAlbum.Status.COLLECTING)
            .values_list("due_at", flat=True).first())


@dataclass(frozen=True)
class ModelChoice:
    id: int
    name: str
    price: int
    chosen: bool


def bot_model_choices(*, user: User) -> tuple[str, list[ModelChoice]]:
    """The catalog as /model shows it: the name of the model the user's messages
    generate with ("" when it is not in the catalog any more), and every active model."""
    current = bot_model_slug(user=user)
    models = list(model_list_active())
    choices = [ModelChoice(id=m.pk, name=m.name, price=m.price, chosen=m.slug == current) for m in models]
    name = next((choice.name for choice in choices if choice.chosen), "")
    return name, choices


def button_generation(*, user: User, generation_id: int) -> Generation:
    """The generation a button under a result acts on. NotFound when it no longer
    exists, ButtonNotYours when it is somebody else's (a result shared to a chat)."""
    generation = Generation.objects.select_related("model", "user").filter(pk=generation_id).first()
    if generation is None:
        raise NotFound()
    if generation.user_id != user.pk:
        raise ButtonNotYours()
    return generation


@dataclass(frozen=True)
class SharedResult:
    """One result to show: Telegram's file id of it, or else its public URL."""

    generation_id: int
    position: int
    prompt: str
    kind: str  # a ResultMessage kind, or the content type when only a URL is known
    file_id: str = ""
    url: str = ""

    @property
    def result_id(self) -> str:
        return f"{self.generation_id}-{self.position}"


@dataclass(frozen=True)
class InlinePage:
    results: list[SharedResult]
    next_offset: str
    # The "Make yours" link of the user asking (None while TELEGRAM_BOT_USERNAME is unset).
    link: str | None


# Words of an inline query that narrow the search; more are ignored.
INLINE_MAX_WORDS = 8


def inline_results(*, telegram_id: int, query: str, offset: int, limit: int) -> InlinePage:
    """The asking user's own results that Telegram holds, whose prompt has every word
    of `query`, newest first, `limit` from `offset`. Nobody else's, ever."""
    user = User.objects.filter(telegram_id=telegram_id).first()
    if user is None:
        return InlinePage(results=[], next_offset="", link=None)
    sent = ResultMessage.objects.filter(
        generation__user=user, generation__status=Generation.Status.COMPLETED
    ).order_by("-generation_id", "position")
    for word in query.split()[:INLINE_MAX_WORDS]:
        sent = sent.filter(generation__prompt__icontains=word)
    rows = list(sent.values("generation_id", "position", "kind", "file_id", "generation__prompt")[
        offset:offset + limit + 1])
    results = [
        SharedResult(generation_id=row["generation_id"], position=row["position"], prompt=row["generation__prompt"],
                     kind=row["kind"], file_id=row["file_id"])
        for row in rows[:limit]
    ]
    next_offset = str(offset + limit) if len(rows) > limit else ""
    return InlinePage(results=results, next_offset=next_offset, link=referral_invite_link(user=user))
