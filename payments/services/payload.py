"""The invoice payload: which payment an invoice is for, signed so nobody can make one up.

`p:<payment_id>:<signature>`, at most 128 bytes as Telegram requires. The
signature is an HMAC under SECRET_KEY over the payment id, the buyer, the pack,
the Stars and the credits, so a payload cannot be forged, altered, or replayed
for another user or pack: it verifies only against the payment row it names.
"""

import base64
import hmac

from django.utils.crypto import salted_hmac

from payments.models import Payment

_PREFIX = "p"
_SALT = "nanogen.payments.invoice-payload"
# 22 base64 characters = 132 bits of the HMAC: far beyond guessing, and short.
_SIGNATURE_LENGTH = 22
MAX_PAYLOAD_BYTES = 128


def _signature(*, payment_id: int, user_id: int, pack_id: int, stars: int, credits: int) -> str:
    digest = salted_hmac(_SALT, f"{payment_id}:{user_id}:{pack_id}:{stars}:{credits}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_LENGTH]


def invoice_payload_for(payment: Payment) -> str:
    signature = _signature(
        payment_id=payment.pk,
        user_id=payment.user_id,
        pack_id=payment.pack_id,
        stars=payment.stars,
        credits=payment.credits,
    )
    payload = f"{_PREFIX}:{payment.pk}:{signature}"
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:  # only with an id of ~100 digits
        raise ValueError(f"invoice payload of payment {payment.pk} is over Telegram's {MAX_PAYLOAD_BYTES} bytes")
    return payload


def invoice_payload_payment_id(payload: str) -> int | None:
    """The payment id a payload names, or None when it is not one of ours (unverified)."""
    parts = payload.split(":") if isinstance(payload, str) else []
    if len(parts) != 3 or parts[0] != _PREFIX or not parts[1].isascii() or not parts[1].isdigit():
        return None
    if len(parts[2]) != _SIGNATURE_LENGTH or len(parts[1]) > 18:
        return None
    return int(parts[1])


def invoice_payload_verify(payment: Payment, payload: str) -> bool:
    """Whether `payload` is exactly the one signed for `payment`."""
    return hmac.compare_digest(invoice_payload_for(payment).encode(), str(payload).encode())
