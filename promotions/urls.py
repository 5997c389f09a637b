from django.urls import URLPattern, path

from promotions.api import DailyBonusApi, PromoRedeemApi

# Mounted under /api/ by nanogen.urls.
api_urlpatterns: list[URLPattern] = [
    path("promo/redeem", PromoRedeemApi.as_view(), name="promo-redeem"),
    path("bonus/daily", DailyBonusApi.as_view(), name="bonus-daily"),
]
