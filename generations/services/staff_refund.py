"""Staff refunds of completed generations (a bad result).

A completed generation is never refunded automatically; staff may return its
credits once, from the admin. The ledger entry is the record: kind
GENERATION_STAFF_REFUND, reference `generation:<id>`, `created_by` the staff
member, `note` the reason, `created_at` the time. Its unique (kind, reference)
makes a second refund impossible, even when two staff members click at once.
The Generation row is not touched (its `refunded` flag means the automatic
refund of a failed or cancelled generation).
"""

import logging
from collections.abc import Iterator

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from accounts.models import CreditKind, CreditLedgerEntry, User
from accounts.services import credits_apply, user_lock
from core.errors import ValidationFailed
from generations.errors import GenerationNotRefundable
from generations.models import Generation
from generations.services.lifecycle import generation_reference

logger = logging.getLogger(__name__)


def generation_staff_refund(*, generation_id: int, staff: User, reason: str) -> CreditLedgerEntry | None:
    """Return a completed generation's credits to its user, once.

    Returns the ledger entry, or None when it was already refunded by staff.
    Raises GenerationNotRefundable for a generation that is not completed (failed
    and cancelled ones were refunded automatically; live ones may still be).
    """
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(details={"reason": [gettext("This field may not be blank.")]})
    generation = Generation.objects.only("id", "user_id", "status", "credits_charged").get(pk=generation_id)
    if generation.status != Generation.Status.COMPLETED:
        raise GenerationNotRefundable()
    if generation.credits_charged <= 0:
        return None
    try:
        with transaction.atomic():
            entry = credits_apply(
                user=user_lock(user_id=generation.user_id),
                amount=generation.credits_charged,
                kind=CreditKind.GENERATION_STAFF_REFUND,
                reference=generation_reference(generation.pk),
                note=reason,
                created_by=staff,
            )
    except IntegrityError:
        # The unique (kind, reference): this generation was refunded by staff before.
        return None
    logger.info("generation %s: %s credits refunded by staff %s", generation_id, entry.amount, staff.pk,
                extra={"generation_id": generation_id})
    return entry


def generation_staff_refunds_audit() -> Iterator[str]:
    """`audit_ledger` check: a staff refund only of a completed generation, of
    exactly the credits it charged, to its user. Staff refunds are rare, so they
    are checked one by one."""
    prefix = generation_reference(0)[:-1]
    entries = list(
        CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_STAFF_REFUND).values_list(
            "pk", "reference", "user_id", "amount"
        )
    )

    def generation_id(reference: str) -> int | None:
        suffix = reference[len(prefix):] if reference.startswith(prefix) else ""
        return int(suffix) if suffix.isascii() and suffix.isdigit() else None

    ids = {generation_id(reference) for _pk, reference, _user, _amount in entries} - {None}
    generations = {
        g.pk: g for g in Generation.objects.filter(pk__in=ids).only("id", "user_id", "status", "credits_charged")
    }
    for pk, reference, user_id, amount in entries:
        gid = generation_id(reference)
        generation = generations.get(gid) if gid is not None else None
        if generation is None:
            yield f"credit ledger entry {pk}: staff refund for {reference!r}, which is no generation"
        elif generation.status != Generation.Status.COMPLETED:
            yield f"generation {generation.pk} is {generation.status} but was refunded by staff (entry {pk})"
        elif (generation.user_id, generation.credits_charged) != (user_id, amount):
            yield (
                f"generation {generation.pk}: staff refund of {amount} to user {user_id}, "
                f"expected {generation.credits_charged} to user {generation.user_id}"
            )
