from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from courses.models import Course


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())
    return Course.objects.get(code="C5092Z/1")


def test_course_page_shows_the_whole_programme(client, seeded):
    response = client.get(f"/courses/{seeded.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "C5092Z/1",
        "Gestione delle interdipendenze e welfare di iniziativa",
        "19 marzo 2026",
        "8 aprile 2026",
        "28 aprile 2026",
        "Orientare la gestione alla creazione di valore pubblico",
        "Funzionario del Comune di Milano",
        "Chiusura e principali apprendimenti del corso",
        "Giovanni Fosti",
        "Eleonora Perobelli",
        "Viale Piceno, 60",
        "FCO.AS",
        "12 marzo 2026",
        "Susanna Galli",
    ]:
        assert text in html, text


def test_catalogue_lists_published_courses_with_seats(client, seeded):
    html = client.get("/").content.decode()
    assert "C5092Z/1" in html and "C5092Z/2" in html and "LAB-WC/1" in html
    assert "20 posti disponibili" in html


def test_unpublished_course_is_not_found(client, seeded):
    Course.objects.filter(pk=seeded.pk).update(is_published=False)
    assert client.get(f"/courses/{seeded.slug}/").status_code == 404
    assert "C5092Z/1" not in client.get("/").content.decode()


def test_pages_are_italian_even_for_an_english_browser(client, seeded):
    response = client.get(f"/courses/{seeded.slug}/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "it"
    assert "19 marzo 2026" in response.content.decode()


def test_english_is_available_on_request(client, seeded):
    response = client.get("/lang/en/", {"next": f"/courses/{seeded.slug}/"})
    assert response.status_code == 302 and response["Location"] == f"/courses/{seeded.slug}/"
    response = client.get(f"/courses/{seeded.slug}/")
    assert response["Content-Language"] == "en"
    assert "19 March 2026" in response.content.decode()


def test_course_page_queries_do_not_grow_with_programme(
    client, seeded, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        client.get(f"/courses/{seeded.slug}/")


def test_enrollment_closes_at_midnight_after_the_deadline_day(seeded):
    closes = seeded.enrollment_closes_at
    assert closes.isoformat() == "2026-03-13T00:00:00+01:00"


def test_language_switch_refuses_foreign_redirects(client, db):
    response = client.get("/lang/en/", {"next": "https://evil.example.com/"})
    assert response["Location"] == "/"
    assert client.get("/lang/xx/").status_code == 404


def test_anonymous_course_page_is_cached_until_seats_change(
    client, seeded, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from enrollment.services import enroll_participant
    from tests.factories import ParticipantFactory

    course = Course.objects.get(code="C5092Z/2")
    url = course.get_absolute_url()
    assert "20 posti disponibili" in client.get(url).content.decode()
    with django_assert_num_queries(0):
        assert "20 posti disponibili" in client.get(url).content.decode()
    Course.objects.filter(pk=course.pk).update(requires_approval=False)
    user = ParticipantFactory()
    with django_assert_num_queries(0):  # still the cached page until the enrolment commits
        client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        enroll_participant(user=user, course=course)
    assert "19 posti disponibili" in client.get(url).content.decode()
