"""Staff manage users in the admin; credits change only through the ledger."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from accounts.models import CreditKind, CreditLedgerEntry, User
from tests.helpers import credits_give

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def test_user_list_and_search_by_telegram_id(staff_client, owner, stranger):
    response = staff_client.get("/admin/accounts/user/", {"q": str(owner.telegram_id)})
    assert response.status_code == 200
    assert b"@owner" in response.content and b"@stranger" not in response.content


def test_user_change_page_shows_balance_read_only(staff_client, owner):
    credits_give(owner, 12)
    response = staff_client.get(f"/admin/accounts/user/{owner.pk}/change/")
    assert response.status_code == 200
    assert b'name="credits"' not in response.content


def test_posting_a_balance_does_not_change_it(staff_client, owner):
    credits_give(owner, 12)
    staff_client.post(f"/admin/accounts/user/{owner.pk}/change/", {"credits": 999, "telegram_id": owner.telegram_id})
    owner.refresh_from_db()
    assert owner.credits == 12


def test_ban_and_unban_actions(staff_client, owner):
    staff_client.post("/admin/accounts/user/", {"action": "ban", "_selected_action": [owner.pk]})
    owner.refresh_from_db()
    assert owner.is_banned
    staff_client.post("/admin/accounts/user/", {"action": "unban", "_selected_action": [owner.pk]})
    owner.refresh_from_db()
    assert not owner.is_banned


def test_change_credits_action_writes_through_the_ledger(staff_client, staff_user, owner, stranger, audit_passes):
    form = staff_client.post("/admin/accounts/user/", {"action": "change_credits", "_selected_action": [owner.pk]})
    assert form.status_code == 200 and b"Reason" in form.content
    staff_client.post(
        "/admin/accounts/user/",
        {"action": "change_credits", "_selected_action": [owner.pk, stranger.pk], "apply": "1",
         "amount": "15", "reason": "compensation"},
    )
    owner.refresh_from_db()
    assert owner.credits == 15
    entry = CreditLedgerEntry.objects.get(user=owner)
    assert (entry.kind, entry.note, entry.created_by) == (CreditKind.GRANT, "compensation", staff_user)


def test_removing_more_than_the_balance_is_refused(staff_client, owner, audit_passes):
    credits_give(owner, 5)
    response = staff_client.post(
        "/admin/accounts/user/",
        {"action": "change_credits", "_selected_action": [owner.pk], "apply": "1", "amount": "-6", "reason": "x"},
        follow=True,
    )
    assert b"nothing was removed" in response.content
    owner.refresh_from_db()
    assert owner.credits == 5


def test_ledger_is_read_only_in_the_admin(staff_client, owner):
    credits_give(owner, 5)
    entry = CreditLedgerEntry.objects.get(user=owner)
    assert staff_client.get("/admin/accounts/creditledgerentry/").status_code == 200
    assert staff_client.get("/admin/accounts/creditledgerentry/add/").status_code == 403
    delete_url = f"/admin/accounts/creditledgerentry/{entry.pk}/delete/"
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert CreditLedgerEntry.objects.filter(pk=entry.pk).exists()


@override_settings(DEBUG=True)
def test_devlogin_prints_a_url_whose_init_data_authenticates(capsys):
    from urllib.parse import unquote

    from rest_framework.test import APIClient

    call_command("devlogin", "4242", "--language", "ru")
    url = capsys.readouterr().out.strip()
    assert url.startswith("http://127.0.0.1:8000/#tgWebAppData=")
    init_data = unquote(url.split("#tgWebAppData=", 1)[1])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"tma {init_data}")
    body = client.get("/api/me").json()
    assert body["telegram_id"] == 4242 and body["language_code"] == "ru"
    assert User.objects.filter(telegram_id=4242).exists()


def test_devlogin_refuses_without_debug():
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("devlogin", "1")
