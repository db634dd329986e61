from __future__ import annotations

import io
import threading

import pytest
from django.db import connection
from django.utils import translation

from questionnaire.models import Question, Questionnaire
from questionnaire.services import get_or_create_questionnaire
from tests.factories import CourseFactory


def test_every_course_gets_the_default_italian_questionnaire(course):
    questionnaire = get_or_create_questionnaire(course=course)

    questions = list(questionnaire.questions.order_by("order"))
    assert [q.order for q in questions] == [1, 2, 3, 4, 5, 6]
    assert [q.kind for q in questions] == ["scale"] * 5 + ["text"]
    texts = " ".join(q.text for q in questions)
    for word in ("organizzazione", "contenuti", "docenti", "lavoro", "soddisfatto", "Suggerimenti"):
        assert word in texts
    assert all(q.required for q in questions[:5]) and not questions[5].required
    assert questions[0].choices == ["Pessimo", "Scarso", "Sufficiente", "Buono", "Ottimo"]
    assert questions[0].scale_label(5) == "5 – Ottimo"


def test_get_or_create_returns_the_same_questionnaire(course):
    first = get_or_create_questionnaire(course=course)
    again = get_or_create_questionnaire(course=type(course).objects.get(pk=course.pk))

    assert again == first
    assert Questionnaire.objects.count() == 1
    assert Question.objects.count() == 6


def test_defaults_are_italian_whoever_opens_it_first(course):
    with translation.override("en"):
        questionnaire = get_or_create_questionnaire(course=course)

    assert questionnaire.questions.get(order=6).text == "Suggerimenti e osservazioni"


def test_course_page_visitors_do_not_need_a_questionnaire_row(client, course):
    client.get(course.get_absolute_url())

    assert not Questionnaire.objects.exists()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_looks_create_one_questionnaire():
    course = CourseFactory()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def look() -> None:
        try:
            barrier.wait()
            get_or_create_questionnaire(course=type(course).objects.get(pk=course.pk))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=look) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Questionnaire.objects.filter(course=course).count() == 1
    assert Question.objects.count() == 6


def test_the_demo_course_held_months_ago_keeps_its_questionnaire_open(db):
    from django.core.management import call_command
    from django.utils import timezone

    from courses.models import Course
    from questionnaire.selectors import get_window

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    course = Course.objects.get(code="C5092Z/1")
    assert get_window(get_or_create_questionnaire(course=course)).is_open(timezone.now())
