"""`reconcile_stars`: Telegram's record of the bot's Stars compared with the payments.

Telegram is the source of truth for money: whatever the bot missed (an update lost
before this project stored them, a refund by Telegram's support whose message was
not handled) shows in getStarTransactions. The run reads every transaction of the
period, page by page (offset/limit, at most 100 a page), and for each:

- an incoming invoice payment whose charge id no payment has: credited through
  `payment_confirm`, the path of a successful_payment, when its payload is one of
  ours; otherwise (and when it does not match, e.g. another amount) `payment_confirm`
  records it as a PaymentIssue for staff;
- an outgoing refund that NanoGen did not book: booked by `payment_refund_outside`,
  as a refunded_payment message would be;
- an incoming payment with an affiliate's commission (Telegram's affiliate
  program): the commission is recorded on the payment, so revenue counts net.

Everything it does goes through services that are exactly-once per charge id, so a
run is safe next to live payments and a second run finds nothing new. Runs do not
overlap (an advisory lock); `dry_run` only reads and says what it would do.
"""

import logging
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from core.telegram_api import bot_api_call
from payments.errors import PaymentNotMatched
from payments.models import STARS_CURRENCY, Payment, PaymentIssue, StarsReconciliation
from payments.services.checkout import payment_confirm
from payments.services.payload import invoice_payload_payment_id, invoice_payload_verify
from payments.services.reversals import OutsideRefundOutcome, payment_refund_outside

logger = logging.getLogger(__name__)

PAGE_LIMIT = 100  # Telegram's maximum
MAX_PAGES = 2000
INVOICE_PAYMENT = "invoice_payment"
REFUND_REASON = "Refunded by Telegram outside NanoGen (found by reconcile_stars)"
_LOCK_KEY = zlib.crc32(b"payments: reconcile stars")


class ReconciliationBusy(Exception):
    """Another reconciliation is running."""


class Kind:
    CREDIT = "credit"  # Stars for one of our invoices, never credited
    ISSUE = "issue"  # Stars for an invoice that is not ours: for staff
    REFUND = "refund"  # a refund NanoGen did not book
    AFFILIATE = "affiliate"  # an affiliate's commission not recorded yet
    ALL = (CREDIT, ISSUE, REFUND, AFFILIATE)


@dataclass
class Finding:
    kind: str
    charge_id: str
    telegram_user_id: int
    amount: int
    date: str
    payload: str = ""
    affiliate: str = ""
    affiliate_amount: int = 0
    subscription_period: int | None = None
    # What was done: "payment 7", "issue 3", "would credit"... (filled by the run).
    outcome: str = ""


@dataclass
class ReconciliationReport:
    days: int
    dry_run: bool
    transactions: int = 0
    findings: list[Finding] = field(default_factory=list)
    run_id: int | None = None

    def of_kind(self, kind: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind == kind]

    @property
    def credited(self) -> int:
        return sum(1 for f in self.of_kind(Kind.CREDIT) if f.outcome.startswith("payment "))

    @property
    def issues(self) -> int:
        return sum(1 for f in self.findings if f.outcome.startswith("issue "))

    @property
    def unresolved(self) -> int:
        """Left for staff: unmatched Stars recorded, refunds of charges never seen."""
        return sum(1 for f in self.findings if f.outcome.startswith("issue ") or f.outcome.startswith("unknown"))


def stars_reconcile(*, days: int, dry_run: bool = False) -> ReconciliationReport:
    """Compare the last `days` days of Stars transactions with the payments (module
    docstring). Raises ReconciliationBusy when another run holds the lock, and
    TelegramApiError when Telegram cannot be read (then nothing was changed by this
    run beyond what it had already settled)."""
    since = timezone.now() - timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ReconciliationBusy()
    run = None if dry_run else StarsReconciliation.objects.create(days=days)
    report = ReconciliationReport(days=days, dry_run=dry_run, run_id=run.pk if run else None)
    try:
        transactions = star_transactions_read(since=since)
        report.transactions = len(transactions)
        report.findings = findings_of(transactions)
        for finding in report.findings:
            finding.outcome = _would(finding) if dry_run else _settle(finding)
    except Exception as exc:
        if run is not None:
            StarsReconciliation.objects.filter(pk=run.pk).update(
                status=StarsReconciliation.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:500],
                transactions=report.transactions, report={"findings": [asdict(f) for f in report.findings]},
            )
        raise
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    if run is not None:
        StarsReconciliation.objects.filter(pk=run.pk).update(
            status=StarsReconciliation.Status.DONE,
            finished_at=timezone.now(),
            transactions=report.transactions,
            credited=report.credited,
            issues=report.issues,
            refunds=sum(1 for f in report.of_kind(Kind.REFUND) if f.outcome.startswith("refunded")),
            affiliate_commissions=len(report.of_kind(Kind.AFFILIATE)),
            unresolved=report.unresolved,
            report={"findings": [asdict(f) for f in report.findings]},
        )
    logger.info("Stars reconciliation of %s days%s: %s transactions, %s findings", days,
                " (dry run)" if dry_run else "", report.transactions, len(report.findings))
    return report


def star_transactions_read(*, since: datetime) -> list[dict[str, Any]]:
    """The bot's Stars transactions dated `since` or later, oldest first.

    Telegram documents "chronological order" for getStarTransactions; read either
    way: every page until a short one, except that a newest-first list stops at the
    first page reaching back past `since`. A transaction seen twice (the list moved
    under the offsets while new ones arrived) counts once.
    """
    cutoff = int(since.timestamp())
    seen: set[tuple[str, bool]] = set()
    found: list[dict[str, Any]] = []
    offset = 0
    for _page in range(MAX_PAGES):
        answer = bot_api_call("getStarTransactions", {"offset": offset, "limit": PAGE_LIMIT})
        batch = answer.get("transactions") if isinstance(answer, dict) else None
        batch = [tx for tx in batch or [] if isinstance(tx, dict) and isinstance(tx.get("date"), int)]
        for tx in batch:
            key = (str(tx.get("id")), "source" in tx)
            if key not in seen and tx["date"] >= cutoff:
                seen.add(key)
                found.append(tx)
        if len(batch) < PAGE_LIMIT:
            break
        offset += len(batch)
        if batch[0]["date"] > batch[-1]["date"] and batch[-1]["date"] < cutoff:
            break  # newest first, and this page already reaches back past the period
    else:
        logger.error("getStarTransactions: stopped after %s pages; the rest was not compared", MAX_PAGES)
    return sorted(found, key=lambda tx: tx["date"])


def _partner(tx: dict[str, Any]) -> dict[str, Any] | None:
    """The user of an invoice payment or of its refund; None for anything else
    (withdrawals, ads, gifts, paid media...)."""
    partner = tx.get("source") if "source" in tx else tx.get("receiver")
    if not isinstance(partner, dict) or partner.get("type") != "user":
        return None
    if partner.get("transaction_type", INVOICE_PAYMENT) != INVOICE_PAYMENT:
        return None
    user = partner.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        return None
    return partner


def _affiliate(partner: dict[str, Any]) -> tuple[str, int]:
    info = partner.get("affiliate")
    if not isinstance(info, dict) or not isinstance(info.get("amount"), int):
        return "", 0
    if isinstance(info.get("affiliate_user"), dict):
        who = f"user {info['affiliate_user'].get('id')}"
    elif isinstance(info.get("affiliate_chat"), dict):
        who = f"chat {info['affiliate_chat'].get('id')}"
    else:
        who = "affiliate"
    return who[:64], info["amount"]


def _payload_is_ours(payload: str) -> bool:
    payment_id = invoice_payload_payment_id(payload)
    payment = Payment.objects.filter(pk=payment_id).first() if payment_id is not None else None
    return payment is not None and invoice_payload_verify(payment, payload)


def findings_of(transactions: list[dict[str, Any]]) -> list[Finding]:
    """What in these transactions (oldest first) NanoGen has not settled. Reads only."""
    findings: list[Finding] = []
    to_credit: set[str] = set()
    for tx in transactions:
        partner = _partner(tx)
        if partner is None:
            continue
        charge_id = str(tx.get("id") or "")
        if not charge_id:
            continue
        date = datetime.fromtimestamp(tx["date"], tz=UTC)
        amount = tx.get("amount") if isinstance(tx.get("amount"), int) else 0
        payload = str(partner.get("invoice_payload") or "")
        common = {"charge_id": charge_id, "telegram_user_id": partner["user"]["id"], "amount": amount,
                  "date": date.isoformat(), "payload": payload}
        payment = Payment.objects.filter(telegram_payment_charge_id=charge_id).first()
        if "source" in tx:
            affiliate, affiliate_amount = _affiliate(partner)
            period = partner.get("subscription_period")
            if payment is not None:
                if affiliate_amount > 0 and not payment.affiliate:
                    findings.append(Finding(kind=Kind.AFFILIATE, affiliate=affiliate,
                                            affiliate_amount=affiliate_amount, **common))
                continue
            if PaymentIssue.objects.filter(telegram_payment_charge_id=charge_id).exists():
                continue  # recorded for staff before
            kind = Kind.CREDIT if _payload_is_ours(payload) else Kind.ISSUE
            findings.append(Finding(kind=kind, affiliate=affiliate, affiliate_amount=affiliate_amount,
                                    subscription_period=period if isinstance(period, int) else None, **common))
            to_credit.add(charge_id)
        else:
            if payment is not None and payment.status == Payment.Status.REFUNDED:
                continue
            if payment is None and charge_id not in to_credit:
                issue = PaymentIssue.objects.filter(telegram_payment_charge_id=charge_id).first()
                if issue is not None and issue.status != PaymentIssue.Status.OPEN:
                    continue
            findings.append(Finding(kind=Kind.REFUND, **common))
    return findings


def _would(finding: Finding) -> str:
    return {Kind.CREDIT: "would credit", Kind.ISSUE: "would record for staff", Kind.REFUND: "would book the refund",
            Kind.AFFILIATE: f"would record {finding.affiliate_amount} Stars for {finding.affiliate}"}[finding.kind]


def _settle(finding: Finding) -> str:
    if finding.kind in (Kind.CREDIT, Kind.ISSUE):
        return _credit(finding)
    if finding.kind == Kind.REFUND:
        refund = payment_refund_outside(
            telegram_payment_charge_id=finding.charge_id, telegram_user_id=finding.telegram_user_id,
            total_amount=finding.amount, invoice_payload=finding.payload, reason=REFUND_REASON,
        )
        if refund.outcome == OutsideRefundOutcome.REFUNDED:
            return f"refunded payment {refund.payment_id}"
        if refund.outcome == OutsideRefundOutcome.UNKNOWN:
            return f"unknown charge, recorded as settled issue {refund.issue_id}"
        if refund.outcome == OutsideRefundOutcome.ISSUE_CLOSED:
            return f"refunded: closed issue {refund.issue_id}"
        return f"already refunded payment {refund.payment_id}"
    recorded = affiliate_commission_record(
        telegram_payment_charge_id=finding.charge_id, affiliate=finding.affiliate, amount=finding.affiliate_amount
    )
    return f"recorded on payment {recorded}" if recorded else "already recorded"


def _credit(finding: Finding) -> str:
    payment_id = invoice_payload_payment_id(finding.payload)
    stars = Payment.objects.filter(pk=payment_id).values_list("stars", flat=True).first() if payment_id else None
    # Whether a transaction's amount is before or after the affiliate's share is not
    # documented: either matching the invoice's price counts as that price.
    total = stars if stars in (finding.amount, finding.amount + finding.affiliate_amount) else finding.amount
    expires_at = None
    if finding.subscription_period:
        expires_at = datetime.fromisoformat(finding.date) + timedelta(seconds=finding.subscription_period)
    try:
        payment = payment_confirm(
            telegram_user_id=finding.telegram_user_id,
            payload=finding.payload,
            currency=STARS_CURRENCY,
            total_amount=total,
            telegram_payment_charge_id=finding.charge_id,
            subscription_expires_at=expires_at,
        )
    except PaymentNotMatched as exc:
        return f"issue {exc.issue.pk} ({exc.issue.reason})"
    if finding.affiliate_amount > 0:
        affiliate_commission_record(telegram_payment_charge_id=finding.charge_id, affiliate=finding.affiliate,
                                    amount=finding.affiliate_amount)
    return f"payment {payment.pk}"


def affiliate_commission_record(*, telegram_payment_charge_id: str, affiliate: str, amount: int) -> int | None:
    """Record the affiliate's commission on the payment of a charge, once; its id, or
    None when there is no such payment or it was recorded already."""
    payment_id = Payment.objects.filter(telegram_payment_charge_id=telegram_payment_charge_id).values_list(
        "pk", flat=True).first()
    if payment_id is None:
        return None
    updated = Payment.objects.filter(pk=payment_id, affiliate="").update(
        affiliate=affiliate or "affiliate", affiliate_commission=max(amount, 0), updated_at=timezone.now()
    )
    return payment_id if updated else None
