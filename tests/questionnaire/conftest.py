from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from questionnaire.models import Question, Questionnaire
from tests.factories import CourseFactory, EnrollmentFactory, SessionFactory
from tests.questionnaire.factories import QuestionFactory, QuestionnaireFactory


@pytest.fixture
def open_course(db):
    """A course whose last session started last week: its questionnaire is open."""
    course = CourseFactory(sessions=0)
    today = timezone.localdate()
    SessionFactory(course=course, date=today - dt.timedelta(days=14))
    SessionFactory(course=course, date=today - dt.timedelta(days=7))
    return course


@pytest.fixture
def enrollment(open_course):
    return EnrollmentFactory(course=open_course)


@pytest.fixture
def questionnaire(open_course) -> Questionnaire:
    """Three questions: a required scale, an optional single choice, an optional free text."""
    questionnaire = QuestionnaireFactory(course=open_course)
    QuestionFactory(questionnaire=questionnaire, order=1, text="Contenuti", kind="scale")
    QuestionFactory(
        questionnaire=questionnaire,
        order=2,
        text="Lo consiglieresti?",
        kind=Question.Kind.CHOICE,
        required=False,
    )
    QuestionFactory(
        questionnaire=questionnaire,
        order=3,
        text="Suggerimenti",
        kind=Question.Kind.TEXT,
        required=False,
    )
    return questionnaire
