from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from enrollment.models import Enrollment
from enrollment.services import enroll_participant
from tests.enrollment.helpers import open_course, people
from tests.factories import ParticipantFactory, SecretariatFactory

pytestmark = pytest.mark.django_db
S = Enrollment.Status


@pytest.fixture
def staff_client(client):
    client.force_login(SecretariatFactory())
    return client


def _enrol(course, n, **profile):
    return [enroll_participant(user=u, course=course) for u in people(n, **profile)]


@pytest.mark.parametrize(
    "path",
    [
        "/segreteria/",
        "/segreteria/courses/{slug}/enrollments/",
        "/segreteria/courses/{slug}/enrollments/export.csv",
        "/segreteria/courses/{slug}/enrollments/export.xlsx",
    ],
)
def test_secretariat_pages_are_closed_to_participants_and_anonymous(client, path):
    course = open_course()
    url = path.format(slug=course.slug)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(ParticipantFactory())
    assert client.get(url).status_code == 403
    client.force_login(SecretariatFactory())
    assert client.get(url).status_code == 200


def test_participant_cannot_post_bulk_actions(client):
    course = open_course(requires_approval=True)
    (request,) = _enrol(course, 1)
    client.force_login(ParticipantFactory())
    response = client.post(
        f"/segreteria/courses/{course.slug}/enrollments/",
        {"action": "approve", "ids": [request.pk]},
    )
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == S.REQUESTED


def test_bulk_approve(staff_client):
    course = open_course(requires_approval=True)
    a, b, c = _enrol(course, 3)
    staff_client.post(
        f"/segreteria/courses/{course.slug}/enrollments/",
        {"action": "approve", "ids": [a.pk, b.pk]},
    )
    assert [e.status for e in Enrollment.objects.order_by("id")] == [
        S.CONFIRMED,
        S.CONFIRMED,
        S.REQUESTED,
    ]


def test_reject_a_request_promotes_the_waiting_list(staff_client):
    course = open_course(capacity=1, requires_approval=True)
    a, w = _enrol(course, 2)
    staff_client.post(
        f"/segreteria/courses/{course.slug}/enrollments/", {"action": "reject", "ids": [a.pk]}
    )
    a.refresh_from_db()
    w.refresh_from_db()
    assert a.status == S.REJECTED
    assert w.status == S.REQUESTED


def test_move_from_waitlist_only_within_capacity(staff_client):
    course = open_course(capacity=2)
    a, b, w1, w2 = _enrol(course, 4)
    staff_client.post(
        f"/segreteria/courses/{course.slug}/enrollments/", {"action": "waitlist", "ids": [a.pk]}
    )
    a.refresh_from_db()
    assert a.status == S.WAITLISTED
    response = staff_client.post(
        f"/segreteria/courses/{course.slug}/enrollments/",
        {"action": "confirm_waitlisted", "ids": [w1.pk, w2.pk]},
        follow=True,
    )
    w1.refresh_from_db()
    w2.refresh_from_db()
    assert w1.status == S.CONFIRMED and w2.status == S.WAITLISTED
    assert "restano in lista d&#x27;attesa" in response.content.decode()
    assert Enrollment.objects.filter(course=course, status=S.CONFIRMED).count() == 2


def test_bulk_action_without_selection_shows_an_error(staff_client):
    course = open_course()
    response = staff_client.post(
        f"/segreteria/courses/{course.slug}/enrollments/", {"action": "approve"}, follow=True
    )
    assert "Seleziona almeno" in response.content.decode()


def test_filters_and_search(staff_client):
    course = open_course(capacity=1)
    a, w = _enrol(course, 2)
    url = f"/segreteria/courses/{course.slug}/enrollments/"
    html = staff_client.get(url, {"status": "waitlisted"}).content.decode()
    assert w.user.email in html and a.user.email not in html
    html = staff_client.get(url, {"q": a.user.profile.codice_fiscale}).content.decode()
    assert a.user.email in html and w.user.email not in html


def test_exports_have_the_columns_and_no_formulas(staff_client):
    course = open_course()
    (user,) = people(1, organisation='=HYPERLINK("http://x")')
    enroll_participant(user=user, course=course)
    csv_body = staff_client.get(
        f"/segreteria/courses/{course.slug}/enrollments/export.csv"
    ).content.decode("utf-8-sig")
    header, row = csv_body.strip().splitlines()
    assert header.startswith("Cognome;Nome;Codice fiscale;E-mail;Professione;Ente;Tipo di ente")
    assert user.profile.codice_fiscale in row
    assert "'=HYPERLINK" in row  # defused: the cell starts with a quote
    xlsx = staff_client.get(f"/segreteria/courses/{course.slug}/enrollments/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [c.value for c in sheet[2]]
    assert user.email in values and "Confermata" in values
    ente = sheet.cell(row=2, column=6)
    assert ente.data_type == "s" and ente.value.startswith("=HYPERLINK")
