from django.urls import URLPattern, path

from payments.api import (
    InvoiceCreateApi,
    PackListApi,
    PaymentCancelApi,
    PaymentDetailApi,
    PaymentListApi,
    ReferralSummaryApi,
    SubscriptionCancelApi,
    SubscriptionListApi,
    WithdrawalsApi,
)

# Mounted under /api/ by nanogen.urls.
api_urlpatterns: list[URLPattern] = [
    path("payments", PaymentListApi.as_view(), name="payments"),
    path("payments/packs", PackListApi.as_view(), name="payment-packs"),
    path("payments/invoice", InvoiceCreateApi.as_view(), name="payment-invoice"),
    path("payments/<int:payment_id>", PaymentDetailApi.as_view(), name="payment-detail"),
    path("payments/<int:payment_id>/cancel", PaymentCancelApi.as_view(), name="payment-cancel"),
    path("referrals", ReferralSummaryApi.as_view(), name="referrals"),
    path("subscriptions", SubscriptionListApi.as_view(), name="subscriptions"),
    path("subscriptions/<int:subscription_id>/cancel", SubscriptionCancelApi.as_view(), name="subscription-cancel"),
    path("withdrawals", WithdrawalsApi.as_view(), name="withdrawals"),
]
