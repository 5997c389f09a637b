"""Reads of the bot."""

from dataclasses import dataclass

from accounts.models import User
from payments.selectors import pack_list_on_sale


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
