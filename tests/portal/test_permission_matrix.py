"""Every URL of the portal, requested as anonymous, the owner, another participant and the
secretariat, with the status each must get. A new URL fails the coverage test until listed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from attendance.models import Source
from attendance.services import record_attendance
from certificates.services import issue_certificate
from enrollment.tokens import make_give_back_token
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ParticipantFactory,
    SecretariatFactory,
    SessionFactory,
)
from tests.questionnaire.factories import CompletionFactory

pytestmark = pytest.mark.django_db

ANON, OWNER, OTHER, STAFF = "anonymous", "owner", "other", "secretariat"
SECRETARIAT_ONLY = {ANON: 302, OWNER: 403, OTHER: 403, STAFF: 200}
SIGNED_IN = {ANON: 302, OWNER: 200, OTHER: 200, STAFF: 200}
PUBLIC = {ANON: 200, OWNER: 200, OTHER: 200, STAFF: 200}
API_KEY_ONLY = dict.fromkeys(PUBLIC, 401)

# url name → (path template, expected status per role). {slug}, {session}, {enrollment},
# {token}, {code}, {give_back} are filled from the data below.
MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "courses:catalogue": ("/", PUBLIC),
    "courses:detail": ("/courses/{slug}/", PUBLIC),
    "enrollment:ics": ("/courses/{slug}/calendar.ics", PUBLIC),
    "enrollment:enroll": (
        "/courses/{slug}/enroll/",
        {ANON: 405, OWNER: 405, OTHER: 405, STAFF: 405},
    ),
    "enrollment:mine": ("/my/enrollments/", SIGNED_IN),
    "enrollment:cancel": (
        "/my/enrollments/{enrollment}/cancel/",
        {ANON: 302, OWNER: 405, OTHER: 405, STAFF: 405},
    ),
    # Only the owner sees their QR code: anyone else's is not found, the secretariat's included.
    "enrollment:check_in_code": (
        "/my/enrollments/{upcoming_enrollment}/qr/",
        {ANON: 302, OWNER: 200, OTHER: 404, STAFF: 404},
    ),
    "enrollment:check_in_png": (
        "/my/enrollments/{upcoming_enrollment}/qr.png",
        {ANON: 302, OWNER: 200, OTHER: 404, STAFF: 404},
    ),
    "enrollment:give_back": ("/enrollments/give-back/{give_back}/", PUBLIC),
    "web:secretariat": ("/segreteria/", SECRETARIAT_ONLY),
    "web:accessibility": ("/accessibilita/", PUBLIC),
    "web:privacy": ("/privacy/", PUBLIC),
    "web:legal_notes": ("/note-legali/", PUBLIC),
    "web:contacts": ("/contatti/", PUBLIC),
    "enrollment:manage": ("/segreteria/courses/{slug}/enrollments/", SECRETARIAT_ONLY),
    "enrollment:history": ("/segreteria/enrollments/{enrollment}/history/", SECRETARIAT_ONLY),
    "enrollment:export_csv": (
        "/segreteria/courses/{slug}/enrollments/export.csv",
        SECRETARIAT_ONLY,
    ),
    "enrollment:export_xlsx": (
        "/segreteria/courses/{slug}/enrollments/export.xlsx",
        SECRETARIAT_ONLY,
    ),
    "accounts:login": ("/accounts/login/", {ANON: 200, OWNER: 302, OTHER: 302, STAFF: 302}),
    "accounts:logout": ("/accounts/logout/", {ANON: 405, OWNER: 405, OTHER: 405, STAFF: 405}),
    "accounts:signup": ("/accounts/signup/", {ANON: 200, OWNER: 302, OTHER: 302, STAFF: 302}),
    "accounts:signup_done": ("/accounts/signup/done/", PUBLIC),
    "accounts:activate": ("/accounts/activate/MQ/bad-token/", dict.fromkeys(PUBLIC, 302)),
    "accounts:profile": ("/accounts/profile/", SIGNED_IN),
    "accounts:two_factor": ("/accounts/2fa/", {ANON: 302, OWNER: 302, OTHER: 302, STAFF: 200}),
    # Only a session confirmed with a second factor sees the codes: the others go to the 2FA step.
    "accounts:backup_codes": (
        "/accounts/2fa/backup-codes/",
        {ANON: 302, OWNER: 403, OTHER: 403, STAFF: 302},
    ),
    # SPID/CIE: not found while OIDC_ISSUER is empty (as here); tests/accounts/test_oidc.py
    # covers them with a provider. The link page serves only the session that came back from it.
    "accounts:oidc_login": ("/accounts/oidc/spid/login/", dict.fromkeys(PUBLIC, 404)),
    "accounts:oidc_callback": ("/accounts/oidc/callback/", dict.fromkeys(PUBLIC, 404)),
    "accounts:oidc_link": ("/accounts/oidc/link/", dict.fromkeys(PUBLIC, 302)),
    "accounts:password_reset": ("/accounts/password-reset/", PUBLIC),
    "accounts:password_reset_done": ("/accounts/password-reset/done/", PUBLIC),
    "accounts:password_reset_confirm": ("/accounts/reset/MQ/bad-token/", PUBLIC),
    "accounts:password_reset_complete": ("/accounts/reset/done/", PUBLIC),
    "attendance:my": (
        "/courses/{slug}/my-attendance/",
        {ANON: 302, OWNER: 200, OTHER: 404, STAFF: 404},
    ),
    "attendance:summary": ("/segreteria/courses/{slug}/attendance/", SECRETARIAT_ONLY),
    "attendance:export_csv": ("/segreteria/courses/{slug}/attendance/export.csv", SECRETARIAT_ONLY),
    "attendance:export_xlsx": (
        "/segreteria/courses/{slug}/attendance/export.xlsx",
        SECRETARIAT_ONLY,
    ),
    "attendance:import": ("/segreteria/courses/{slug}/attendance/import/", SECRETARIAT_ONLY),
    "attendance:register": ("/segreteria/sessions/{session}/register/", SECRETARIAT_ONLY),
    "attendance:check_in": ("/segreteria/courses/{slug}/check-in/", SECRETARIAT_ONLY),
    "attendance:check_in_inside": (
        "/segreteria/sessions/{session}/check-in/inside/",
        SECRETARIAT_ONLY,
    ),
    # POST only: the secretariat's GET is refused by method, everyone else's before it.
    "attendance:check_in_scan": (
        "/segreteria/sessions/{session}/check-in/scan/",
        {**SECRETARIAT_ONLY, STAFF: 405},
    ),
    "attendance:check_in_manual": (
        "/segreteria/sessions/{session}/check-in/manual/",
        {**SECRETARIAT_ONLY, STAFF: 405},
    ),
    "attendance:check_in_confirm": (
        "/segreteria/sessions/{session}/check-in/confirm/",
        {**SECRETARIAT_ONLY, STAFF: 405},
    ),
    "attendance:sign_in_sheet": (
        "/segreteria/sessions/{session}/sign-in-sheet.pdf",
        SECRETARIAT_ONLY,
    ),
    "attendance:history": (
        "/segreteria/enrollments/{enrollment}/attendance-history/",
        SECRETARIAT_ONLY,
    ),
    "questionnaire:fill": (
        "/courses/{slug}/questionnaire/",
        {ANON: 302, OWNER: 200, OTHER: 403, STAFF: 403},
    ),
    "questionnaire:results": ("/segreteria/courses/{slug}/questionnaire/", SECRETARIAT_ONLY),
    # The secretariat is let in, then sent back to the results: one response is below the minimum.
    "questionnaire:export_csv": (
        "/segreteria/courses/{slug}/questionnaire/export.csv",
        {**SECRETARIAT_ONLY, STAFF: 302},
    ),
    "questionnaire:edit": ("/segreteria/courses/{slug}/questionnaire/edit/", SECRETARIAT_ONLY),
    "certificates:mine": ("/certificates/", SIGNED_IN),
    "certificates:download": (
        "/certificates/{token}/download/",
        {ANON: 302, OWNER: 200, OTHER: 404, STAFF: 404},
    ),
    "certificates:verify": ("/verify/", PUBLIC),
    "certificates:ca_pem": ("/verify/ca.pem", PUBLIC),
    "certificates:verify_code": ("/verify/{code}/", PUBLIC),
    "certificates:course": ("/segreteria/courses/{slug}/certificates/", SECRETARIAT_ONLY),
    "certificates:credits_csv": ("/segreteria/courses/{slug}/credits.csv", SECRETARIAT_ONLY),
    "certificates:credits_xlsx": ("/segreteria/courses/{slug}/credits.xlsx", SECRETARIAT_ONLY),
    # The libretto has no id in its address: everyone signed in gets their own.
    "certificates:libretto": ("/certificates/libretto/", SIGNED_IN),
    "certificates:libretto_download": ("/certificates/libretto/download.csv", SIGNED_IN),
    "certificates:libretto_search": ("/segreteria/libretto/", SECRETARIAT_ONLY),
    "certificates:libretto_participant": ("/segreteria/libretto/{user}/", SECRETARIAT_ONLY),
    "certificates:libretto_participant_download": (
        "/segreteria/libretto/{user}/download.json",
        SECRETARIAT_ONLY,
    ),
    "certificates:triennium_credits_csv": (
        "/segreteria/libretto/trienni/2026/credits.csv",
        SECRETARIAT_ONLY,
    ),
    "certificates:triennium_credits_xlsx": (
        "/segreteria/libretto/trienni/2026/credits.xlsx",
        SECRETARIAT_ONLY,
    ),
    "certificates:course_zip": ("/segreteria/courses/{slug}/certificates.zip", SECRETARIAT_ONLY),
    "switch_language": ("/lang/en/", dict.fromkeys(PUBLIC, 302)),
    "healthz": ("/healthz", PUBLIC),
    "my_data": ("/accounts/my-data/", SIGNED_IN),
    # The REST API: public reads for everyone; the organisations' endpoints need an API key,
    # which no page session replaces (401 for every role; scoping by key in tests/api).
    "api:courses": ("/api/v1/courses/", PUBLIC),
    "api:course": ("/api/v1/courses/{slug}/", PUBLIC),
    "api:sessions": ("/api/v1/courses/{slug}/sessions/", PUBLIC),
    "api:org_enrollments": ("/api/v1/org/courses/{slug}/enrollments/", API_KEY_ONLY),
    "api:org_attendance": ("/api/v1/org/courses/{slug}/attendance/", API_KEY_ONLY),
    "api:org_certificates": ("/api/v1/org/courses/{slug}/certificates/", API_KEY_ONLY),
    "api:org_certificate_download": ("/api/v1/org/certificates/{token}/download/", API_KEY_ONLY),
    # The participant's own data through the site's session; anonymous is refused (403).
    "api:my_enrollments": ("/api/v1/me/enrollments/", {**SIGNED_IN, ANON: 403}),
    "api:my_certificates": ("/api/v1/me/certificates/", {**SIGNED_IN, ANON: 403}),
    "api:schema": ("/api/schema/", PUBLIC),
    "api:docs": ("/api/docs/", PUBLIC),
    # The Django admin: staff only (the secretariat is staff, not superuser).
    "admin:index": ("/admin/", {ANON: 302, OWNER: 302, OTHER: 302, STAFF: 200}),
}


def _named_urls(patterns: list, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the admin site is checked through its index
            names |= _named_urls(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_url_is_in_the_matrix():
    assert _named_urls(get_resolver().url_patterns) | {"admin:index"} == set(MATRIX)


@pytest.fixture
def world():
    course = CourseFactory(sessions=0)
    today = timezone.localdate()
    for days_ago in (21, 14, 7):
        SessionFactory(course=course, date=today - dt.timedelta(days=days_ago))
    owner = ParticipantFactory()
    enrollment = EnrollmentFactory(user=owner, course=course)
    for session in course.sessions.all():
        record_attendance(
            enrollment=enrollment,
            session=session,
            minutes=session.minutes,
            recorded_by=None,
            source=Source.ADMIN,
        )
    CompletionFactory(enrollment=enrollment)
    certificate, _created = issue_certificate(enrollment=enrollment)
    # The QR code for the room exists only until the course ends: the owner's next course.
    upcoming = EnrollmentFactory(user=owner, course=CourseFactory())
    users = {ANON: None, OWNER: owner, OTHER: ParticipantFactory(), STAFF: SecretariatFactory()}
    values = {
        "slug": course.slug,
        "session": course.sessions.first().pk,
        "enrollment": enrollment.pk,
        "upcoming_enrollment": upcoming.pk,
        "user": owner.pk,
        "token": certificate.token,
        "code": certificate.code,
        "give_back": make_give_back_token(enrollment),
    }
    return users, values


@pytest.mark.parametrize("role", [ANON, OWNER, OTHER, STAFF])
def test_each_role_gets_the_expected_status_everywhere(client, world, role):
    users, values = world
    if users[role] is not None:
        client.force_login(users[role])
    wrong = []
    for name, (template, expected) in MATRIX.items():
        status = client.get(template.format(**values)).status_code
        if status != expected[role]:
            wrong.append(f"{name}: {status} (expected {expected[role]})")
    assert wrong == []


SECRETARIAT_PAGES = [
    template for template, expected in MATRIX.values() if expected is SECRETARIAT_ONLY
]


def test_a_group_member_without_the_staff_flag_is_forbidden_on_every_secretariat_page(
    client, world
):
    # The "Segreteria" group gives the permissions; the staff flag is what makes them count.
    _users, values = world
    client.force_login(SecretariatFactory(is_staff=False))
    wrong = []
    for template in SECRETARIAT_PAGES:
        status = client.get(template.format(**values)).status_code
        if status != 403:
            wrong.append(f"{template}: {status}")
    assert wrong == []


@pytest.mark.parametrize("is_staff", [True, False])
def test_every_secretariat_page_asks_an_unverified_secretariat_member_for_the_second_factor(
    client, world, settings, is_staff
):
    settings.STAFF_2FA_REQUIRED = True
    _users, values = world
    client.force_login(SecretariatFactory(is_staff=is_staff))
    wrong = []
    for template in SECRETARIAT_PAGES:
        response = client.get(template.format(**values))
        if response.status_code != 302 or not response["Location"].startswith("/accounts/2fa/"):
            wrong.append(f"{template}: {response.status_code}")
    assert wrong == []
