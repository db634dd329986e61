"""Two-factor login for staff: a TOTP app (django-otp) confirms every secretariat session."""

from __future__ import annotations

import base64

import segno
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def get_or_create_pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device whose QR code the setup page shows, created once."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="App", confirmed=False)
    return device


def confirm_device(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a new device with its first code; True when the code matched."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def match_confirmed_device(*, user: User, token: str) -> TOTPDevice | None:
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


def has_confirmed_device(user: User) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def qr_data_uri(device: TOTPDevice) -> str:
    """The provisioning QR code as an image data URI (no inline script, no remote fetch)."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")
