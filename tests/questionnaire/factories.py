from __future__ import annotations

import factory

from courses.models import Course
from questionnaire.models import Answer, Completion, Question, Questionnaire, ResponseSet
from questionnaire.selectors import get_questionnaire, list_questions
from tests.factories import CourseFactory, EnrollmentFactory


class QuestionnaireFactory(factory.django.DjangoModelFactory):
    """A questionnaire with no questions (the defaults come only through the service)."""

    class Meta:
        model = Questionnaire

    course = factory.SubFactory(CourseFactory)


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    questionnaire = factory.SubFactory(QuestionnaireFactory)
    order = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Domanda {n}")
    kind = Question.Kind.SCALE
    required = True
    choices = factory.LazyAttribute(
        lambda o: (
            ["Pessimo", "Scarso", "Sufficiente", "Buono", "Ottimo"]
            if o.kind == Question.Kind.SCALE
            else (["Sì", "No"] if o.kind == Question.Kind.CHOICE else [])
        )
    )


class ResponseSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponseSet

    questionnaire = factory.SubFactory(QuestionnaireFactory)


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    question = factory.SubFactory(QuestionFactory)
    response_set = factory.SubFactory(
        ResponseSetFactory, questionnaire=factory.SelfAttribute("..question.questionnaire")
    )


class CompletionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Completion

    enrollment = factory.SubFactory(EnrollmentFactory)


def question_ids(questionnaire: Questionnaire) -> dict[str, int]:
    """Question ids by text, to write answers as {ids["Contenuti"]: 4}."""
    return {q.text: q.pk for q in questionnaire.questions.all()}


def question_numbers(course: Course) -> dict[str, int]:
    """The page's field numbers (the questions' order) by text, to post answers as
    {f"q_{numbers['Contenuti']}": 4}; the default questions when none is saved yet."""
    return {q.text: q.order for q in list_questions(get_questionnaire(course))}
