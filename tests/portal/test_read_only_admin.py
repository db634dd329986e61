"""The append-only logs, and the rows that change only through their services, cannot be added,
changed or deleted from the admin, not even by a superuser."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from attendance.models import AttendanceChange, Scan
from certificates.models import CertificateChange, Seal
from enrollment.models import Enrollment, EnrollmentChange
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

READ_ONLY = [AttendanceChange, Scan, EnrollmentChange, Enrollment, CertificateChange, Seal]


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m._meta.label)
def test_nobody_adds_changes_or_deletes_from_the_admin(rf, model):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    request = rf.get("/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_add_page_of_a_log_is_refused_to_a_superuser(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:attendance_scan_add")).status_code == 403
