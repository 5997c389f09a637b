"""The admin's login: lockouts after failed passwords (django-axes, per e-mail and IP)
and two-factor login with TOTP codes (django-otp), required with STAFF_REQUIRE_2FA."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

pytestmark = pytest.mark.django_db

EMAIL, PASSWORD = "boss@staff.example", "the-right-password-42"
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def boss(db) -> User:
    return User.objects.create_superuser(email=EMAIL, password=PASSWORD)


def log_in(client: Client, password: str = PASSWORD, ip: str = "203.0.113.7", **extra: str):
    return client.post(LOGIN, {"username": EMAIL, "password": password, **extra}, REMOTE_ADDR=ip)


def is_logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def test_the_right_password_after_30_wrong_ones_is_refused(boss):
    client = Client()
    statuses = [log_in(client, password=f"guess-{i}").status_code for i in range(30)]
    assert statuses[:4] == [200] * 4  # the form again, "wrong password"
    assert set(statuses[5:]) == {429}  # locked out

    response = log_in(client)

    assert response.status_code == 429 and not is_logged_in(client)
    assert AccessAttempt.objects.filter(username=EMAIL, ip_address="203.0.113.7").exists()


def test_the_lockout_is_per_email_and_address(boss):
    for i in range(10):
        log_in(Client(), password=f"guess-{i}", ip="198.51.100.66")
    # Somebody else's guesses from elsewhere do not lock the owner out.
    client = Client()
    assert log_in(client, ip="203.0.113.7").status_code == 302 and is_logged_in(client)


def test_a_good_login_before_the_limit_resets_the_count(boss):
    client = Client()
    for i in range(4):
        log_in(client, password=f"guess-{i}")
    assert log_in(client).status_code == 302
    assert not AccessAttempt.objects.filter(username=EMAIL).exists()


def test_staff_without_a_device_log_in_with_a_password_while_2fa_is_optional(boss):
    client = Client()
    assert log_in(client).status_code == 302 and is_logged_in(client)


def test_with_2fa_required_staff_without_a_device_cannot_reach_the_admin(boss, settings):
    settings.STAFF_REQUIRE_2FA = True
    client = Client()

    response = log_in(client)

    assert response.status_code == 200 and not is_logged_in(client)
    # Not even with a session from before the setting was turned on.
    client.force_login(boss)
    assert client.get("/admin/").status_code == 302


def test_with_2fa_required_a_totp_code_lets_staff_in(boss, settings):
    settings.STAFF_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=boss, name="phone", confirmed=True)
    client = Client()

    assert log_in(client, otp_token="000000" if code_of(device) != "000000" else "111111").status_code == 200
    assert not is_logged_in(client)
    response = log_in(client, otp_device=device.persistent_id, otp_token=code_of(device))

    assert response.status_code == 302 and is_logged_in(client)


def test_staff_who_enrolled_always_give_their_code(boss):
    TOTPDevice.objects.create(user=boss, name="phone", confirmed=True)
    client = Client()
    assert log_in(client).status_code == 200 and not is_logged_in(client)


def test_enrolment_prints_a_qr_code_of_a_new_device(boss, capsys):
    call_command("staff_totp_enrol", EMAIL)
    device = TOTPDevice.objects.get(user=boss)
    out = capsys.readouterr().out
    assert device.confirmed and device.config_url in out and "otpauth://totp/" in out
