from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from questionnaire.forms import QuestionEditForm, question_initial
from questionnaire.models import Question, Questionnaire
from questionnaire.selectors import get_window, has_answers
from questionnaire.services import (
    QuestionData,
    QuestionnaireError,
    get_or_create_questionnaire,
    replace_questions,
    submit_questionnaire,
    update_questionnaire_window,
)
from tests.factories import EnrollmentFactory, UserFactory
from tests.questionnaire.factories import AnswerFactory, question_ids

ROME = ZoneInfo("Europe/Rome")


def _url(course) -> str:
    return reverse("questionnaire:edit", kwargs={"slug": course.slug})


def _formset_data(rows: list[dict[str, str]], *, initial: int = 0) -> dict[str, str]:
    data = {
        "action": "questions",
        "questions-TOTAL_FORMS": str(len(rows)),
        "questions-INITIAL_FORMS": str(initial),
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"questions-{i}-{key}": value for key, value in row.items()})
    return data


NEW_QUESTIONS = [
    {"text": "Utilità", "kind": "scale", "required": "on", "order": "2", "choices": ""},
    {"text": "Modalità preferita", "kind": "choice", "order": "1", "choices": "Aula\nOnline\n"},
]


def test_replace_questions_renumbers_in_the_requested_order(course):
    questionnaire = get_or_create_questionnaire(course=course)

    replace_questions(
        questionnaire=questionnaire,
        questions=[
            QuestionData(text="B", kind="text", order=5),
            QuestionData(text="A", kind="scale", order=5),
            QuestionData(text="C", kind="choice", order=1, choices=["Sì", "No"]),
        ],
    )

    assert list(questionnaire.questions.values_list("order", "text")) == [
        (1, "C"),
        (2, "B"),
        (3, "A"),
    ]


def test_questions_cannot_be_edited_once_answers_exist(course):
    questionnaire = get_or_create_questionnaire(course=course)
    AnswerFactory(question=questionnaire.questions.first(), scale_value=3)

    with pytest.raises(QuestionnaireError, match="già delle risposte"):
        replace_questions(
            questionnaire=questionnaire, questions=[QuestionData(text="Nuova", kind="text")]
        )

    assert questionnaire.questions.count() == 6


@pytest.mark.parametrize(
    ("kind", "choices", "message"),
    [
        ("choice", ["Solo una"], "almeno due opzioni"),
        ("scale", ["1", "2", "3"], "cinque etichette"),
        ("text", ["x"], "non ha opzioni"),
    ],
)
def test_service_checks_the_options_of_each_kind(course, kind, choices, message):
    questionnaire = get_or_create_questionnaire(course=course)

    with pytest.raises(QuestionnaireError, match=message):
        replace_questions(
            questionnaire=questionnaire,
            questions=[QuestionData(text="Q", kind=kind, choices=choices)],
        )

    assert questionnaire.questions.count() == 6  # rolled back


def test_a_questionnaire_needs_at_least_one_question(course):
    with pytest.raises(QuestionnaireError, match="almeno una domanda"):
        replace_questions(questionnaire=get_or_create_questionnaire(course=course), questions=[])


def test_window_closing_must_follow_opening(course):
    questionnaire = get_or_create_questionnaire(course=course)

    with pytest.raises(QuestionnaireError, match="La chiusura deve seguire l'apertura"):
        update_questionnaire_window(
            questionnaire=questionnaire,
            opens_at=dt.datetime(2030, 3, 2, tzinfo=ROME),
            closes_at=dt.datetime(2030, 3, 1, tzinfo=ROME),
        )


# --- The page ----------------------------------------------------------------------------------


def test_edit_page_needs_change_question(client, course, participant):
    assert client.get(_url(course)).status_code == 302
    client.force_login(participant)
    assert client.get(_url(course)).status_code == 403
    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_results"))
    client.force_login(reader)
    assert client.get(_url(course)).status_code == 403
    assert client.post(_url(course), _formset_data(NEW_QUESTIONS)).status_code == 403
    assert not Question.objects.filter(text="Utilità").exists()


def test_secretariat_sees_the_default_questions_in_the_formset(client, secretariat, course):
    client.force_login(secretariat)

    html = client.get(_url(course)).content.decode()

    assert 'name="questions-TOTAL_FORMS" value="7"' in html  # six questions and a blank row
    assert "Come valuta i contenuti del corso?" in html


def test_secretariat_replaces_the_questions(client, secretariat, course):
    client.force_login(secretariat)

    response = client.post(_url(course), _formset_data(NEW_QUESTIONS), follow=True)

    assert "Domande del questionario salvate." in response.content.decode()
    questions = list(course.questionnaire.questions.order_by("order"))
    assert [(q.text, q.kind, q.required, q.choices) for q in questions] == [
        ("Modalità preferita", "choice", False, ["Aula", "Online"]),
        ("Utilità", "scale", True, []),
    ]


def test_existing_rows_are_kept_deleted_rows_and_the_blank_row_left_out(
    client, secretariat, course
):
    """What the page posts: the six defaults as initial rows, then the blank row."""
    client.force_login(secretariat)
    questions = list(get_or_create_questionnaire(course=course).questions.order_by("order"))
    rows = [
        {**row, "required": "on" if row["required"] else ""} for row in question_initial(questions)
    ]
    rows[0]["text"] = "Come valuta la sede?"
    rows[5]["DELETE"] = "on"
    rows.append({"kind": "scale", "required": "on"})  # the untouched blank row

    client.post(_url(course), _formset_data(rows, initial=6))

    texts = list(course.questionnaire.questions.values_list("text", flat=True))
    assert texts == ["Come valuta la sede?"] + [q.text for q in questions[1:5]]


def test_form_errors_keep_the_questions_unchanged(client, secretariat, course):
    client.force_login(secretariat)
    rows = [{"text": "Scelta", "kind": "choice", "order": "1", "choices": "Una sola"}]

    response = client.post(_url(course), _formset_data(rows))

    assert response.status_code == 200
    assert "Indica almeno due opzioni, una per riga." in response.content.decode()
    assert get_or_create_questionnaire(course=course).questions.count() == 6


def test_page_refuses_editing_questions_once_answered_but_dates_stay_editable(
    client, secretariat, course
):
    questionnaire = get_or_create_questionnaire(course=course)
    AnswerFactory(question=questionnaire.questions.first(), scale_value=3)
    client.force_login(secretariat)

    page = client.get(_url(course)).content.decode()
    assert "le domande non si possono più modificare" in page
    assert "questions-TOTAL_FORMS" not in page

    refused = client.post(_url(course), _formset_data(NEW_QUESTIONS), follow=True)
    assert "le domande non si possono più modificare" in refused.content.decode()
    assert questionnaire.questions.count() == 6

    client.post(_url(course), {"action": "window", "opens_at": "2030-03-01T09:30", "closes_at": ""})
    questionnaire = Questionnaire.objects.get(pk=questionnaire.pk)
    assert questionnaire.opens_at == dt.datetime(2030, 3, 1, 9, 30, tzinfo=ROME)
    assert questionnaire.closes_at is None


def test_window_form_shows_the_error(client, secretariat, course):
    client.force_login(secretariat)

    response = client.post(
        _url(course),
        {"action": "window", "opens_at": "2030-03-02T09:00", "closes_at": "2030-03-01T09:00"},
    )

    assert "La chiusura deve seguire l&#x27;apertura." in response.content.decode()


def test_questions_are_locked_as_soon_as_someone_submits(open_course, questionnaire):
    # The answers wait unpublished in the pool; the questions they answer must not change.
    submit_questionnaire(
        enrollment=EnrollmentFactory(course=open_course),
        answers={question_ids(questionnaire)["Contenuti"]: 4},
    )
    assert not questionnaire.response_sets.exists()

    assert has_answers(questionnaire)
    with pytest.raises(QuestionnaireError, match="già delle risposte"):
        replace_questions(
            questionnaire=questionnaire, questions=[QuestionData(text="Nuova", kind="text")]
        )


def test_a_closed_questionnaire_with_answers_cannot_be_reopened(open_course, questionnaire):
    # Reopening after the results were released would let one more answer be told apart.
    submit_questionnaire(
        enrollment=EnrollmentFactory(course=open_course),
        answers={question_ids(questionnaire)["Contenuti"]: 4},
    )
    closes_at = get_window(questionnaire).closes_at

    with (
        time_machine.travel(closes_at, tick=False),
        pytest.raises(QuestionnaireError, match="è già chiuso"),
    ):
        update_questionnaire_window(
            questionnaire=questionnaire, opens_at=None, closes_at=closes_at + dt.timedelta(days=30)
        )

    questionnaire.refresh_from_db()
    assert questionnaire.closes_at is None


def test_the_closing_can_be_moved_while_open(open_course, questionnaire):
    closes_at = get_window(questionnaire).closes_at

    with time_machine.travel(closes_at - dt.timedelta(minutes=1), tick=False):
        update_questionnaire_window(
            questionnaire=questionnaire, opens_at=None, closes_at=closes_at + dt.timedelta(days=7)
        )

    questionnaire.refresh_from_db()
    assert questionnaire.closes_at == closes_at + dt.timedelta(days=7)


def test_a_closed_questionnaire_nobody_answered_can_be_reopened(open_course, questionnaire):
    closes_at = get_window(questionnaire).closes_at

    with time_machine.travel(closes_at, tick=False):
        update_questionnaire_window(
            questionnaire=questionnaire, opens_at=None, closes_at=closes_at + dt.timedelta(days=30)
        )

    assert get_window(questionnaire).closes_at == closes_at + dt.timedelta(days=30)


def test_edit_page_offers_no_date_form_once_closed_with_answers(
    client, secretariat, open_course, questionnaire
):
    submit_questionnaire(
        enrollment=EnrollmentFactory(course=open_course),
        answers={question_ids(questionnaire)["Contenuti"]: 4},
    )
    client.force_login(secretariat)
    closes_at = get_window(questionnaire).closes_at

    with time_machine.travel(closes_at - dt.timedelta(minutes=1), tick=False):
        before = client.get(_url(open_course)).content.decode()
    with time_machine.travel(closes_at, tick=False):
        after = client.get(_url(open_course)).content.decode()
        refused = client.post(
            _url(open_course),
            {"action": "window", "opens_at": "", "closes_at": "2099-01-01T09:00"},
        ).content.decode()

    assert 'value="window"' in before
    assert 'value="window"' not in after
    assert "le date non si possono più modificare" in after
    assert "le date non si possono più modificare" in refused
    questionnaire.refresh_from_db()
    assert questionnaire.closes_at is None


@pytest.mark.parametrize(
    ("kind", "choices"),
    [
        ("choice", ["Solo una"]),
        ("choice", ["Sì", "No"]),
        ("scale", ["1", "2", "3"]),
        ("scale", ["1", "2", "3", "4", "5"]),
        ("scale", []),
        ("text", []),
        ("text", ["x"]),
    ],
)
def test_editing_form_and_service_apply_the_same_options_rule(course, kind, choices):
    form = QuestionEditForm(
        data={
            "text": "Q",
            "kind": kind,
            "required": "on",
            "order": "1",
            "choices": "\n".join(choices),
        }
    )
    try:
        replace_questions(
            questionnaire=get_or_create_questionnaire(course=course),
            questions=[QuestionData(text="Q", kind=kind, choices=choices)],
        )
    except QuestionnaireError:
        service_accepts = False
    else:
        service_accepts = True

    assert form.is_valid() is service_accepts
