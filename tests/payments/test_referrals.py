"""Referral links (never to oneself, never re-linked) and the commission on purchases."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from payments.models import EarningsKind, ReferralAccount, ReferralEarningsEntry
from payments.services import referral_attach, referral_commission, referral_link
from tests.helpers import run_in_threads

pytestmark = pytest.mark.django_db


def test_a_new_user_is_linked_by_the_start_parameter(owner, referrer):
    assert referral_attach(user=owner, code=f"ref_{referrer.referral_code}")
    owner.refresh_from_db()
    assert owner.referred_by == referrer


def test_the_bare_code_works_too(owner, referrer):
    assert referral_attach(user=owner, code=referrer.referral_code.upper())


def test_self_referral_is_refused(owner):
    assert not referral_attach(user=owner, code=f"ref_{owner.referral_code}")
    owner.refresh_from_db()
    assert owner.referred_by is None


def test_a_linked_user_is_never_relinked(owner, referrer, stranger):
    assert referral_attach(user=owner, code=referrer.referral_code)
    assert not referral_attach(user=owner, code=stranger.referral_code)
    owner.refresh_from_db()
    assert owner.referred_by == referrer


def test_an_old_user_is_not_linked(owner, referrer, settings):
    User.objects.filter(pk=owner.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.REFERRAL_LINK_MAX_AGE_HOURS, minutes=1)
    )
    assert not referral_attach(user=owner, code=referrer.referral_code)


def test_a_user_who_already_paid_is_not_linked(owner, referrer, pack, make_paid, audit_passes):
    make_paid(owner, pack)
    assert not referral_attach(user=owner, code=referrer.referral_code)


def test_no_two_person_loop(owner, referrer):
    assert referral_link(referrer=referrer, new_user=owner)
    assert not referral_attach(user=referrer, code=owner.referral_code)


@pytest.mark.parametrize("code", ["", "ref_", "ref_nosuchcode", "x" * 100, "ref_" + "é" * 5])
def test_unknown_codes_link_nothing(owner, code):
    assert not referral_attach(user=owner, code=code)


def test_a_banned_referrer_links_nobody(owner, referrer):
    referrer.is_banned = True
    referrer.save()
    assert not referral_attach(user=owner, code=referrer.referral_code)


@pytest.mark.django_db(transaction=True)
def test_concurrent_start_commands_link_one_referrer(owner, referrer, stranger):
    codes = [referrer.referral_code, stranger.referral_code] * 4
    results = run_in_threads(8, lambda i: referral_attach(user=User.objects.get(pk=owner.pk), code=codes[i]))
    assert results.count(True) == 1
    owner.refresh_from_db()
    assert owner.referred_by in (referrer, stranger)


@pytest.mark.parametrize(("stars", "percent", "expected"), [(100, 10, 10), (99, 10, 9), (5, 10, 0), (50, 15, 7)])
def test_commission_is_whole_stars_rounded_down(settings, stars, percent, expected):
    settings.REFERRAL_PERCENT = percent
    assert referral_commission(stars) == expected


def test_each_purchase_earns_the_referrer_a_commission(referred_owner, referrer, pack, make_paid, audit_passes):
    first = make_paid(referred_owner, pack)
    second = make_paid(referred_owner, pack)
    account = ReferralAccount.objects.get(user=referrer)
    assert account.earnings == 20
    entries = ReferralEarningsEntry.objects.filter(account=account).order_by("id")
    assert [(e.kind, e.amount, e.reference) for e in entries] == [
        (EarningsKind.COMMISSION, 10, f"payment:{first.pk}"),
        (EarningsKind.COMMISSION, 10, f"payment:{second.pk}"),
    ]


def test_a_purchase_without_referrer_earns_nobody_anything(owner, pack, make_paid, audit_passes):
    make_paid(owner, pack)
    assert not ReferralEarningsEntry.objects.exists()


def test_the_referral_summary(referred_owner, referrer, stranger, pack, make_paid, audit_passes):
    referral_link(referrer=referrer, new_user=stranger)
    make_paid(referred_owner, pack)
    from tests.helpers import api_client_for

    body = api_client_for(referrer.telegram_id).get("/api/referrals").json()
    assert body["code"] == referrer.referral_code
    assert body["link"] == f"https://t.me/nanogen_test_bot?start=ref_{referrer.referral_code}"
    assert (body["invited"], body["invited_paying"]) == (2, 1)
    assert (body["earnings"], body["earned_total"], body["withdrawn_total"], body["pending_withdrawal"]) == (
        10, 10, 0, 0)
    assert body["percent"] == 10 and body["withdrawal_min_amount"] == 100


def test_the_summary_of_a_new_user(owner_client, owner, settings):
    settings.TELEGRAM_BOT_USERNAME = ""
    body = owner_client.get("/api/referrals").json()
    assert body["link"] is None
    assert (body["invited"], body["earnings"]) == (0, 0)
    assert not ReferralAccount.objects.exists()


def test_referrals_need_authentication(anonymous_client):
    assert anonymous_client.get("/api/referrals").status_code == 401
