"""Two-factor login for the secretariat: a TOTP app (django-otp) confirms every session; backup
codes (django-otp's static tokens) stand in for a lost phone, each once."""

from __future__ import annotations

import base64
import logging

import segno
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils.translation import gettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

logger = logging.getLogger(__name__)

BACKUP_CODE_COUNT = 10


def get_or_create_pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device whose QR code the setup page shows, created once."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="App", confirmed=False)
    return device


def confirm_device(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a new device with its first code; True when the code matched."""
    if not device.verify_token(normalise_token(token)):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def normalise_token(token: str) -> str:
    # Codes are read off a phone or a sheet of paper: spaces and capitals are typing, not errors.
    return "".join(token.split()).lower()


def match_confirmed_device(*, user: User, token: str) -> Device | None:
    """The device (the app, or the backup codes) that accepts `token`, or None.

    A code goes only to the kind of device it can be for, so typing a backup code does not count
    as a wrong app code (which would throttle the app). The device is locked while the code is
    checked: a backup code, which verifying deletes, cannot confirm two sessions at once.
    """
    token = normalise_token(token)
    model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(token):
                return device
    return None


def has_confirmed_device(user: User) -> bool:
    """True once the authenticator app is set up (backup codes alone do not count)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def regenerate_backup_codes(*, user: User) -> list[str]:
    """Replace the user's backup codes with new ones; the old ones stop working at once."""
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    with transaction.atomic():
        # The device stays (only its tokens change): a session confirmed with a backup code
        # refers to it and stays confirmed.
        devices = StaticDevice.objects.select_for_update().filter(user=user).order_by("pk")
        device = devices.first()
        if device is None:
            device = StaticDevice.objects.create(user=user, name="Codici di riserva")
        devices.exclude(pk=device.pk).delete()
        if not device.confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def count_backup_codes(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def is_backup_device(device: Device) -> bool:
    return isinstance(device, StaticDevice)


def reset_second_factor(*, user: User, actor: User) -> None:
    """An administrator removes a colleague's app and backup codes (a lost or replaced phone).

    The colleague's sessions stop being confirmed at once (their device no longer exists) and
    the next secretariat page asks them to set the app up again. Logged with who and when.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message=gettext(
                "Secondo fattore azzerato (app di autenticazione e codici di riserva)."
            ),
            single_object=True,
        )
    logger.info("second factor reset: user_id=%s by actor_id=%s", user.pk, actor.pk)


def qr_data_uri(device: TOTPDevice) -> str:
    """The provisioning QR code as an image data URI (no inline script, no remote fetch)."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")
