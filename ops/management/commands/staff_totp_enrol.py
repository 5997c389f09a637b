"""`python manage.py staff_totp_enrol <email>`: a TOTP device for a staff member's
two-factor login, shown as a QR code (and its otpauth:// address) to scan with an
authenticator app. Run it on the server, give the code to that person only.

Admins can also add devices in the admin (OTP TOTP > TOTP devices, with a QR code
link): this command is for the first one, before anybody can log in with
STAFF_REQUIRE_2FA on."""

import io
from typing import Any

import qrcode
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


class Command(BaseCommand):
    help = "Create a TOTP device for a staff member and print its QR code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="authenticator", help="the device's name (default: authenticator)")
        parser.add_argument("--replace", action="store_true", help="delete the member's other TOTP devices first")

    def handle(self, *args: Any, email: str, name: str, replace: bool, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip(), is_staff=True).first()
        if user is None:
            raise CommandError(f"No staff member with the e-mail {email!r}.")
        if replace:
            TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        code = qrcode.QRCode(border=1)
        code.add_data(device.config_url)
        picture = io.StringIO()
        code.print_ascii(out=picture, invert=True)
        self.stdout.write(picture.getvalue())
        self.stdout.write(device.config_url)
        self.stdout.write(self.style.SUCCESS(
            f"TOTP device {name!r} created for {user.email}: scan the code with an authenticator app."
        ))
