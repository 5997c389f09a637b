"""Writes of promotions, re-exported here: `from promotions.services import promo_redeem`."""

from promotions.services.daily_bonus import (
    BonusClaimed,
    bonus_day,
    bonus_next_at,
    daily_bonus_claim,
    daily_bonus_enabled,
    daily_bonus_reference,
)
from promotions.services.promo import (
    PromoRedeemed,
    promo_attempt_record,
    promo_code_save,
    promo_redeem,
    promo_reference,
)

__all__ = [
    "BonusClaimed",
    "PromoRedeemed",
    "bonus_day",
    "bonus_next_at",
    "daily_bonus_claim",
    "daily_bonus_enabled",
    "daily_bonus_reference",
    "promo_attempt_record",
    "promo_code_save",
    "promo_redeem",
    "promo_reference",
]
