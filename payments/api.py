"""API views of payments, referrals and withdrawals: parse, call a service or a
selector, render. Every object is looked up within the requesting user's own."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_user
from accounts.models import User
from core.api.pagination import NewestFirstCursorPagination
from core.api.schema import error_response
from core.i18n import user_language
from payments import selectors, services
from payments.models import CreditPack, Payment, Subscription, Withdrawal


class NewestFirstPagination(NewestFirstCursorPagination):
    max_page_size = 100


def _paginated(
    request: Request, view: APIView, queryset: QuerySet[Any], serializer: type[serializers.Serializer[Any]]
) -> Response:
    """`{"results", "next", "previous"}`, newest first, like every list of the API."""
    paginator = NewestFirstPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context={"request": request}).data)


def _language(serializer: serializers.Serializer[Any]) -> str:
    request = serializer.context.get("request")
    user = request.user if request is not None else None
    return user_language(user.language_code if isinstance(user, User) else None)


class PackOutputSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.SerializerMethodField()
    stars = serializers.IntegerField()
    credits = serializers.IntegerField()
    period_days = serializers.IntegerField(
        allow_null=True, help_text="null: bought once; 30: a subscription, these credits every 30 days"
    )

    def get_title(self, pack: CreditPack) -> str:
        return pack.title_for(_language(self))


class PackListApi(APIView):
    @extend_schema(responses=PackOutputSerializer(many=True), operation_id="payments_packs")
    def get(self, request: Request) -> Response:
        packs = selectors.pack_list_on_sale()
        return Response(PackOutputSerializer(packs, many=True, context={"request": request}).data)


class InvoiceInputSerializer(serializers.Serializer[Any]):
    pack = serializers.CharField(max_length=64)


class InvoiceOutputSerializer(serializers.Serializer[Any]):
    payment_id = serializers.IntegerField(source="pk")
    invoice_link = serializers.CharField()


class InvoiceCreateApi(APIView):
    @extend_schema(
        request=InvoiceInputSerializer,
        examples=[OpenApiExample("The starter pack", value={"pack": "starter"}, request_only=True)],
        responses={
            201: InvoiceOutputSerializer,
            400: error_response("PACK_UNAVAILABLE (unknown or retired pack) or VALIDATION_ERROR."),
            429: error_response("RATE_LIMIT_EXCEEDED: too many invoices; see Retry-After."),
            503: error_response("PAYMENT_PROVIDER_UNAVAILABLE: Telegram could not make the invoice; try again."),
        },
        operation_id="payments_invoice_create",
    )
    def post(self, request: Request) -> Response:
        data = InvoiceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.payment_invoice_create(user=request_user(request), pack_slug=data.validated_data["pack"])
        return Response(InvoiceOutputSerializer(payment).data, status=201)


class PaymentOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    pack = serializers.CharField(source="pack.slug")
    title = serializers.SerializerMethodField()
    stars = serializers.IntegerField()
    credits = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Payment.Status.choices)
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    refunded_at = serializers.DateTimeField(allow_null=True)

    def get_title(self, payment: Payment) -> str:
        return payment.pack.title_for(_language(self))


class PaymentListApi(APIView):
    pagination_class = NewestFirstPagination  # documents the page envelope in the schema

    @extend_schema(responses=PaymentOutputSerializer(many=True), operation_id="payments_list")
    def get(self, request: Request) -> Response:
        payments = selectors.payment_list_for_user(user=request_user(request))
        return _paginated(request, self, payments, PaymentOutputSerializer)


class PaymentDetailApi(APIView):
    @extend_schema(responses=PaymentOutputSerializer, operation_id="payments_detail")
    def get(self, request: Request, payment_id: int) -> Response:
        payment = selectors.payment_get_for_user(user=request_user(request), payment_id=payment_id)
        return Response(PaymentOutputSerializer(payment, context={"request": request}).data)


class PaymentCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={200: PaymentOutputSerializer, 404: error_response("NOT_FOUND: no such payment of yours.")},
        operation_id="payments_cancel",
        description="The buyer closed the invoice unpaid: a pending payment becomes `cancelled`; "
        "a payment in any other state is returned as it is.",
    )
    def post(self, request: Request, payment_id: int) -> Response:
        payment = services.payment_cancel(user=request_user(request), payment_id=payment_id)
        return Response(PaymentOutputSerializer(payment, context={"request": request}).data)


class ReferralOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    link = serializers.CharField(allow_null=True, help_text="null until TELEGRAM_BOT_USERNAME is set")
    invited = serializers.IntegerField(help_text="users who joined with the code")
    invited_paying = serializers.IntegerField(help_text="of them, users who bought credits")
    earnings = serializers.IntegerField(help_text="Stars available to withdraw")
    earned_total = serializers.IntegerField(help_text="commission earned so far, net of refunds")
    withdrawn_total = serializers.IntegerField(help_text="Stars paid out")
    pending_withdrawal = serializers.IntegerField(help_text="Stars held by a withdrawal under review")
    percent = serializers.IntegerField(help_text="share of each purchase earned")
    withdrawal_min_amount = serializers.IntegerField()
    currency = serializers.CharField()


class ReferralSummaryApi(APIView):
    @extend_schema(responses=ReferralOutputSerializer, operation_id="referrals")
    def get(self, request: Request) -> Response:
        return Response(ReferralOutputSerializer(selectors.referral_summary(user=request_user(request))).data)


class WithdrawalInputSerializer(serializers.Serializer[Any]):
    amount = serializers.IntegerField(min_value=1, max_value=2_000_000_000)
    method = serializers.ChoiceField(choices=Withdrawal.Method.choices)
    destination = serializers.CharField(max_length=255)


class WithdrawalOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    method = serializers.ChoiceField(choices=Withdrawal.Method.choices)
    destination = serializers.CharField()
    status = serializers.ChoiceField(choices=Withdrawal.Status.choices)
    payout_reference = serializers.CharField()
    reject_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class WithdrawalsApi(APIView):
    """GET lists the user's withdrawals; POST requests one (the amount is held at once)."""

    pagination_class = NewestFirstPagination  # documents the page envelope in the schema

    @extend_schema(responses=WithdrawalOutputSerializer(many=True), operation_id="withdrawals_list")
    def get(self, request: Request) -> Response:
        return _paginated(request, self, selectors.withdrawal_list_for_user(user=request_user(request)),
                          WithdrawalOutputSerializer)

    @extend_schema(
        request=WithdrawalInputSerializer,
        responses={
            201: WithdrawalOutputSerializer,
            400: error_response("WITHDRAWAL_BELOW_MINIMUM or VALIDATION_ERROR."),
            402: error_response("INSUFFICIENT_EARNINGS: the amount is more than the earnings available."),
            409: error_response("WITHDRAWAL_ALREADY_PENDING: one withdrawal at a time."),
        },
        operation_id="withdrawals_create",
    )
    def post(self, request: Request) -> Response:
        data = WithdrawalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        withdrawal = services.withdrawal_request(user=request_user(request), **data.validated_data)
        return Response(WithdrawalOutputSerializer(withdrawal).data, status=201)


class SubscriptionOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    pack = serializers.CharField(source="pack.slug")
    title = serializers.SerializerMethodField()
    stars = serializers.IntegerField(help_text="Stars each period")
    credits = serializers.IntegerField(help_text="credits each period")
    period_days = serializers.IntegerField()
    status = serializers.SerializerMethodField(
        help_text="active: renews automatically; cancelled: no more renewals, the paid period runs on; "
                  "expired: the paid period is over"
    )
    expires_at = serializers.DateTimeField(help_text="end of the period paid for (the next renewal while active)")
    created_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)

    def get_title(self, subscription: Subscription) -> str:
        return subscription.pack.title_for(_language(self))

    @extend_schema_field(serializers.ChoiceField(choices=["active", "cancelled", "expired"]))
    def get_status(self, subscription: Subscription) -> str:
        return selectors.subscription_state(subscription)


class SubscriptionListApi(APIView):
    pagination_class = NewestFirstPagination  # documents the page envelope in the schema

    @extend_schema(responses=SubscriptionOutputSerializer(many=True), operation_id="subscriptions_list")
    def get(self, request: Request) -> Response:
        return _paginated(request, self, selectors.subscription_list_for_user(user=request_user(request)),
                          SubscriptionOutputSerializer)


class SubscriptionCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={
            200: SubscriptionOutputSerializer,
            404: error_response("NOT_FOUND: no such subscription, or another user's."),
            409: error_response("SUBSCRIPTION_NOT_CANCELLABLE: Telegram refused (the subscription may have ended)."),
            503: error_response("PAYMENT_PROVIDER_UNAVAILABLE: Telegram could not be reached; try again."),
        },
        operation_id="subscriptions_cancel",
    )
    def post(self, request: Request, subscription_id: int) -> Response:
        subscription = selectors.subscription_get_for_user(user=request_user(request), subscription_id=subscription_id)
        subscription = services.subscription_cancel(subscription_id=subscription.pk)
        return Response(SubscriptionOutputSerializer(subscription, context={"request": request}).data)
