"""API views of promo codes and the daily bonus: parse, call a service, render."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_user
from core.api.schema import error_response
from promotions import selectors, services
from promotions.services.promo import PROMO_INPUT_MAX_LENGTH


class PromoRedeemInputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=PROMO_INPUT_MAX_LENGTH, help_text="Any case; spaces around are ignored.")


class CreditsGrantedSerializer(serializers.Serializer[Any]):
    credits = serializers.IntegerField(help_text="credits granted")
    balance = serializers.IntegerField(help_text="the balance after the grant")


class PromoRedeemApi(APIView):
    @extend_schema(
        request=PromoRedeemInputSerializer,
        examples=[OpenApiExample("A code", value={"code": "SPRING25"}, request_only=True)],
        responses={
            200: CreditsGrantedSerializer,
            404: error_response("PROMO_NOT_FOUND: unknown, inactive or expired code."),
            409: error_response("PROMO_ALREADY_REDEEMED (the user used it) or PROMO_EXHAUSTED (none left)."),
            429: error_response("RATE_LIMIT_EXCEEDED: too many attempts (failed ones too); see Retry-After."),
        },
        operation_id="promo_redeem",
    )
    def post(self, request: Request) -> Response:
        data = PromoRedeemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redeemed = services.promo_redeem(user=request_user(request), code=data.validated_data["code"])
        return Response(CreditsGrantedSerializer(redeemed).data)


class DailyBonusClaimedSerializer(CreditsGrantedSerializer):
    next_at = serializers.DateTimeField(help_text="when the next bonus can be taken (next midnight UTC)")


class DailyBonusStatusSerializer(serializers.Serializer[Any]):
    credits = serializers.IntegerField(help_text="credits of one day's bonus")
    available = serializers.BooleanField(help_text="today's bonus can be taken")
    next_at = serializers.DateTimeField(allow_null=True, help_text="null while available, else next midnight UTC")


BONUS_OFF = error_response("NOT_FOUND: there is no daily bonus (DAILY_BONUS_CREDITS is 0).")


class DailyBonusApi(APIView):
    """GET says whether today's bonus is there; POST takes it (once per UTC day)."""

    @extend_schema(responses={200: DailyBonusStatusSerializer, 404: BONUS_OFF}, operation_id="bonus_daily_status")
    def get(self, request: Request) -> Response:
        return Response(DailyBonusStatusSerializer(selectors.daily_bonus_status(user=request_user(request))).data)

    @extend_schema(
        request=None,
        responses={
            200: DailyBonusClaimedSerializer,
            404: BONUS_OFF,
            409: error_response("BONUS_ALREADY_CLAIMED: taken today; `details.next_at` says when the next one is."),
        },
        operation_id="bonus_daily_claim",
    )
    def post(self, request: Request) -> Response:
        claimed = services.daily_bonus_claim(user=request_user(request))
        return Response(DailyBonusClaimedSerializer(claimed).data)
