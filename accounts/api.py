from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_user


class MeOutputSerializer(serializers.Serializer[Any]):
    telegram_id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    language_code = serializers.CharField()
    is_premium = serializers.BooleanField()
    credits = serializers.IntegerField()
    referral_code = serializers.CharField()
    created_at = serializers.DateTimeField()


class MeApi(APIView):
    @extend_schema(responses=MeOutputSerializer, operation_id="me")
    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(request_user(request)).data)
