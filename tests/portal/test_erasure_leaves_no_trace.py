"""After an erasure, no table holds the person's e-mail, names or codice fiscale, save what the law
keeps: the issued certificate states who it certifies."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from stdnum.it import codicefiscale

from accounts.models import User
from attendance.models import Source
from attendance.services import record_attendance
from certificates.models import Certificate
from certificates.services import issue_certificate
from enrollment.models import Enrollment
from questionnaire.models import Question
from questionnaire.services import get_or_create_questionnaire, submit_questionnaire
from tests.factories import PASSWORD, CourseFactory, SecretariatFactory, SessionFactory, UserFactory
from tests.portal.test_erasure import edit_in_the_admin

EMAIL = "Zebedeo.Quattrocchi@Esempio-Comune.it"
FIRST_NAME = "Zebedeo"
LAST_NAME = "Quattrocchi"
CODICE_FISCALE = "QTTZBD80A01F205" + codicefiscale.calc_check_digit("QTTZBD80A01F205")

# Kept on purpose, each for a reason; nothing else may mention the person.
ALLOWED = {
    # The certificate is the organiser's proof of the training (art. 17(3)(b) GDPR): its row is
    # the verification page's copy of what the signed document states, and must go on saying
    # the same as the signed file, which cannot be changed.
    ("certificates_certificate", "holder_first_name"),
    ("certificates_certificate", "holder_last_name"),
    ("certificates_certificate", "codice_fiscale"),
}

TEXT_TYPES = ("character varying", "character", "text", "json", "jsonb")


def find_everywhere(needle: str) -> set[tuple[str, str]]:
    """Every (table, column) of a text-like type whose value contains `needle`, in any case."""
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = ANY(%s)",
            [list(TEXT_TYPES)],
        )
        columns = [(t, c) for t, c in cursor.fetchall() if t in tables]
        found = set()
        for table, column in columns:
            quoted_table = connection.ops.quote_name(table)
            quoted_column = connection.ops.quote_name(column)
            cursor.execute(
                f"SELECT count(*) FROM {quoted_table} "  # noqa: S608 - names from the catalogue
                f"WHERE {quoted_column}::text ILIKE %s",
                [f"%{needle}%"],
            )
            if cursor.fetchone()[0]:
                found.add((table, column))
    return found


def live_the_persons_story(mailoutbox, capture_on_commit) -> Client:
    """Sign-up, logins (one failed), profile, enrolment, an admin edit, attendance,
    questionnaire, certificate: every place the portal writes about a person. Returns the
    person's browser, still signed in."""
    today = timezone.localdate()
    course = CourseFactory(sessions=0, enrollment_deadline=today - dt.timedelta(days=28))
    for days_ago in (21, 14, 7):
        SessionFactory(course=course, date=today - dt.timedelta(days=days_ago))
    person = Client()
    with time_machine.travel(timezone.now() - dt.timedelta(days=40), tick=True):
        with capture_on_commit(execute=True):  # the activation e-mail
            response = person.post(
                reverse("accounts:signup"),
                {
                    "first_name": FIRST_NAME,
                    "last_name": LAST_NAME,
                    "email": EMAIL,
                    "password1": PASSWORD,
                    "password2": PASSWORD,
                },
            )
        assert response.status_code == 302
        link = re.search(r"/accounts/activate/[^/\s]+/[^/\s]+/", mailoutbox[-1].body).group(0)
        assert person.get(link).status_code == 200  # the activation page
        activation = {"new_password1": PASSWORD, "new_password2": PASSWORD}
        assert person.post(link, activation).status_code == 302
        person.logout()
        login = reverse("accounts:login")
        assert person.post(login, {"username": EMAIL, "password": PASSWORD}).status_code == 302
        response = person.post(
            reverse("accounts:profile"),
            {
                "first_name": FIRST_NAME,
                "last_name": LAST_NAME,
                "codice_fiscale": CODICE_FISCALE.lower(),
                "profession": "assistente_sociale",
                "organisation": f"Comune di {LAST_NAME}ville",
                "organisation_type": "comune",
                "role": f"Referente {LAST_NAME}",
                "phone": "+39 02 1234567",
                "ordine_regionale": "Lombardia",
                "numero_iscrizione": "A-4242",
            },
        )
        assert response.status_code == 302
        person.post(reverse("enrollment:enroll", kwargs={"slug": course.slug}))
    user = User.objects.get(email__iexact=EMAIL)
    enrollment = Enrollment.objects.get(user=user, course=course)
    assert enrollment.status == Enrollment.Status.CONFIRMED

    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    edit_in_the_admin(admin, user, **{"profile-0-role": f"Referente {LAST_NAME} (corretto)"})

    secretariat = SecretariatFactory()
    for session in course.sessions.all():
        record_attendance(
            enrollment=enrollment,
            session=session,
            minutes=session.minutes,
            recorded_by=secretariat,
            source=Source.REGISTER,
        )
    questionnaire = get_or_create_questionnaire(course=course)
    answers = {
        q.pk: 4 if q.kind == Question.Kind.SCALE else "Utile" for q in questionnaire.questions.all()
    }
    submit_questionnaire(enrollment=enrollment, answers=answers)
    certificate, _created = issue_certificate(enrollment=enrollment)
    assert certificate.holder_last_name == LAST_NAME

    # Back today (the old session has expired): the person signs in again...
    login = reverse("accounts:login")
    assert person.post(login, {"username": EMAIL, "password": PASSWORD}).status_code == 302
    # ...and lately, on another device, a mistyped password: an attempt that axes keeps for its
    # cool-off (a successful login would clear it).
    Client().post(login, {"username": EMAIL.upper(), "password": "wrong"})
    return person


@pytest.mark.postgres
@pytest.mark.django_db
def test_after_erasure_no_table_holds_the_persons_data(
    mailoutbox, django_capture_on_commit_callbacks
):
    # given: the person's data in many tables, and a search that finds it there
    person = live_the_persons_story(mailoutbox, django_capture_on_commit_callbacks)
    before = find_everywhere(LAST_NAME)
    assert {
        ("accounts_user", "last_name"),
        ("django_admin_log", "object_repr"),
        ("django_admin_log", "change_message"),
        ("accounts_profile", "role"),
    } <= before
    assert ("axes_accessattempt", "username") in find_everywhere(EMAIL)
    assert ("axes_accesslog", "username") in find_everywhere(EMAIL)
    assert ("accounts_profile", "codice_fiscale") in find_everywhere(CODICE_FISCALE)

    # when
    response = person.post(reverse("my_data"), {"password": PASSWORD})
    assert response.status_code == 302

    # then
    needles = {
        "e-mail": EMAIL,
        "first name": FIRST_NAME,
        "last name": LAST_NAME,
        "codice fiscale": CODICE_FISCALE,
    }
    leftovers = {what: find_everywhere(needle) - ALLOWED for what, needle in needles.items()}
    assert leftovers == {what: set() for what in needles}
    # The allowed exceptions are the certificate's, and it is still there.
    assert find_everywhere(CODICE_FISCALE) == {("certificates_certificate", "codice_fiscale")}
    certificate = Certificate.objects.get(holder_last_name=LAST_NAME)
    assert certificate.status == Certificate.Status.VALID
    assert certificate.enrollment.status == Enrollment.Status.CONFIRMED
