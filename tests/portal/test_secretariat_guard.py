"""The one guard of the secretariat's pages: signed in, staff, the permission, a second factor."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.views import View

from core.permissions import SecretariatRequiredMixin, is_secretariat, secretariat_required
from tests.factories import ParticipantFactory, SecretariatFactory, UserFactory

pytestmark = pytest.mark.django_db

PERM = "enrollment.manage_enrollments"


@secretariat_required(PERM)
def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


class Page(SecretariatRequiredMixin, View):
    permission_required = PERM

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")


VIEWS = [page, Page.as_view()]


def _request(user, *, verified: bool = False) -> HttpRequest:
    request = RequestFactory().get("/segreteria/somewhere/?x=1")
    request.user = user
    # What django-otp's OTPMiddleware installs on the user.
    user.is_verified = lambda: verified
    return request


@pytest.mark.parametrize("view", VIEWS)
def test_anonymous_visitors_go_to_the_login(view):
    response = view(_request(AnonymousUser()))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize(
    "make_user",
    [
        lambda: ParticipantFactory(),
        lambda: SecretariatFactory(is_staff=False),  # the group's permission, no staff flag
        lambda: UserFactory(is_staff=True),  # staff flag, no permission
    ],
)
def test_the_staff_flag_and_the_permission_are_both_needed(view, make_user, settings):
    settings.STAFF_2FA_REQUIRED = False
    with pytest.raises(PermissionDenied):
        view(_request(make_user(), verified=True))


@pytest.mark.parametrize("view", VIEWS)
def test_a_verified_secretariat_member_gets_the_page(view, settings):
    settings.STAFF_2FA_REQUIRED = True
    response = view(_request(SecretariatFactory(), verified=True))
    assert response.status_code == 200


@pytest.mark.parametrize("view", VIEWS)
def test_an_unverified_secretariat_member_is_sent_to_the_second_factor(view, settings):
    settings.STAFF_2FA_REQUIRED = True
    response = view(_request(SecretariatFactory(), verified=False))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/?next=%2Fsegreteria%2Fsomewhere%2F%3Fx%3D1"


@pytest.mark.parametrize("view", VIEWS)
def test_without_the_requirement_no_second_factor_is_asked(view, settings):
    settings.STAFF_2FA_REQUIRED = False
    assert view(_request(SecretariatFactory(), verified=False)).status_code == 200


def test_who_counts_as_secretariat():
    assert not is_secretariat(AnonymousUser())
    assert not is_secretariat(ParticipantFactory())
    assert is_secretariat(UserFactory(is_staff=True))
    assert is_secretariat(SecretariatFactory(is_staff=False))
    holder = ParticipantFactory()
    holder.user_permissions.add(Permission.objects.get(codename="view_results"))
    assert is_secretariat(type(holder).objects.get(pk=holder.pk))


def test_a_group_member_without_staff_cannot_download_the_codice_fiscale_export(
    client, course, settings
):
    settings.STAFF_2FA_REQUIRED = False
    client.force_login(SecretariatFactory(is_staff=False))
    for url in (
        f"/segreteria/courses/{course.slug}/enrollments/export.csv",
        f"/segreteria/courses/{course.slug}/enrollments/export.xlsx",
        f"/segreteria/courses/{course.slug}/credits.csv",
        f"/segreteria/courses/{course.slug}/attendance/export.csv",
    ):
        assert client.get(url).status_code == 403, url
