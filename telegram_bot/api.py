"""API of the bot's side of the Mini App: sharing a result (`shareMessage`)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_user
from core.api.schema import error_response


class ShareOutputSerializer(serializers.Serializer[Any]):
    prepared_message_id = serializers.CharField(
        help_text="Pass to Telegram.WebApp.shareMessage (Bot API 8.0) to let the user send the result to a chat."
    )
    expiration_date = serializers.IntegerField(
        allow_null=True, help_text="Unix time when the prepared message expires."
    )


class GenerationShareApi(APIView):
    @extend_schema(
        request=None,
        responses={
            200: ShareOutputSerializer,
            404: error_response("NOT_FOUND: no such generation, or another user's."),
            409: error_response(
                "GENERATION_NOT_SHAREABLE: the generation is not completed (or has no result to show)."
            ),
            503: error_response("TELEGRAM_UNAVAILABLE: the Bot API did not answer; try again."),
        },
        operation_id="generations_share",
    )
    def post(self, request: Request, generation_id: int) -> Response:
        # Imported here: sharing needs python-telegram-bot (about 27 MiB), which a web
        # worker otherwise never loads; the first share in a worker pays for it once.
        from telegram_bot.services.sharing import generation_share

        prepared = generation_share(user=request_user(request), generation_id=generation_id)
        return Response(ShareOutputSerializer(
            {"prepared_message_id": prepared.id, "expiration_date": prepared.expiration_date}).data)
