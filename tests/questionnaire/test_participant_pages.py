from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from enrollment.models import Enrollment
from questionnaire.models import Completion, PendingResponse, Question, Questionnaire
from tests.factories import CourseFactory, EnrollmentFactory, ParticipantFactory, SessionFactory
from tests.questionnaire.factories import CompletionFactory, QuestionnaireFactory, question_numbers

ROME = ZoneInfo("Europe/Rome")


def _url(course) -> str:
    return reverse("questionnaire:fill", kwargs={"slug": course.slug})


def test_url_of_the_participant_form(open_course):
    assert _url(open_course) == f"/courses/{open_course.slug}/questionnaire/"


def test_anonymous_visitor_is_sent_to_login(client, open_course):
    response = client.get(_url(open_course))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_signed_in_non_participant_gets_a_clear_403(client, open_course):
    client.force_login(ParticipantFactory())

    response = client.get(_url(open_course))

    assert response.status_code == 403
    assert "solo da chi ha un'iscrizione confermata al corso" in response.content.decode()


@pytest.mark.parametrize("status", [Enrollment.Status.WAITLISTED, Enrollment.Status.CANCELLED])
def test_unconfirmed_enrollment_gets_403_and_cannot_post(client, open_course, status):
    enrollment = EnrollmentFactory(course=open_course, status=status)
    client.force_login(enrollment.user)

    assert client.get(_url(open_course)).status_code == 403
    assert client.post(_url(open_course), {}).status_code == 403
    assert not Completion.objects.exists()


def test_unknown_course_is_404(client, participant):
    client.force_login(participant)

    assert client.get("/courses/nessun-corso/questionnaire/").status_code == 404


def test_form_says_it_is_anonymous_and_lists_the_default_questions(client, enrollment):
    client.force_login(enrollment.user)

    html = client.get(_url(enrollment.course)).content.decode()

    assert html.index("Il questionario è anonimo") < html.index('<form method="post"')
    assert "Come valuta i contenuti del corso?" in html
    assert "5 – Ottimo" in html
    # Reading writes nothing: the defaults are shown as data until the first submission.
    assert not Questionnaire.objects.filter(course=enrollment.course).exists()


def test_reading_the_course_and_questionnaire_pages_creates_no_rows(
    client, enrollment, secretariat
):
    # Once, every look at the course page created a questionnaire and six questions.
    course = enrollment.course
    client.force_login(enrollment.user)
    assert "Questionario di gradimento" in client.get(course.get_absolute_url()).content.decode()
    assert client.get(_url(course)).status_code == 200
    client.force_login(secretariat)
    assert (
        client.get(reverse("questionnaire:results", kwargs={"slug": course.slug})).status_code
        == 200
    )
    assert (
        client.get(reverse("questionnaire:edit", kwargs={"slug": course.slug})).status_code == 200
    )
    export = client.get(reverse("questionnaire:export_csv", kwargs={"slug": course.slug}))
    assert export.status_code == 302

    assert not Questionnaire.objects.exists()
    assert not Question.objects.exists()


def test_participant_completes_it_once_in_the_browser(client, enrollment):
    client.force_login(enrollment.user)
    client.get(_url(enrollment.course))
    ids = question_numbers(enrollment.course)
    data = {f"q_{pk}": "4" for text, pk in ids.items() if text != "Suggerimenti e osservazioni"}
    data[f"q_{ids['Suggerimenti e osservazioni']}"] = "Più esercitazioni"

    response = client.post(_url(enrollment.course), data, follow=True)

    assert response.redirect_chain == [(_url(enrollment.course), 302)]
    html = response.content.decode()
    assert "Grazie: il questionario è stato inviato." in html
    assert "Hai compilato il questionario " in html
    assert '<form method="post" novalidate class="questionnaire-form">' not in html
    assert Completion.objects.filter(enrollment=enrollment).count() == 1

    # Posting again (a second tab, the back button) changes nothing.
    again = client.post(_url(enrollment.course), data)
    assert again.status_code == 200
    assert "Hai compilato il questionario " in again.content.decode()
    assert PendingResponse.objects.count() == 1


def test_missing_required_answer_keeps_the_other_answers_on_the_form(client, enrollment):
    client.force_login(enrollment.user)
    client.get(_url(enrollment.course))
    ids = question_numbers(enrollment.course)
    first, second = list(ids.values())[:2]
    text_id = ids["Suggerimenti e osservazioni"]
    data = {f"q_{second}": "2", f"q_{text_id}": "Aula troppo calda"}

    response = client.post(_url(enrollment.course), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Rispondi a questa domanda." in html
    assert f'id="id_q_{first}_error"' in html
    checked = re.findall(r'<input type="radio" name="q_(\d+)" value="(\d)"[^>]* checked', html)
    assert checked == [(str(second), "2")]
    assert "Aula troppo calda</textarea>" in html
    assert not Completion.objects.exists()
    assert not PendingResponse.objects.exists()


@pytest.fixture
def dated_enrollment(db):
    course = CourseFactory(sessions=0, enrollment_deadline=dt.date(2030, 2, 1))
    SessionFactory(course=course, date=dt.date(2030, 3, 11), start=dt.time(14, 0))
    return EnrollmentFactory(course=course)


def test_page_before_opening_says_when_it_opens(client, dated_enrollment):
    with time_machine.travel(dt.datetime(2030, 3, 11, 13, 59, tzinfo=ROME), tick=False):
        client.force_login(dated_enrollment.user)
        response = client.get(_url(dated_enrollment.course))
        posted = client.post(_url(dated_enrollment.course), {})

    html = response.content.decode()
    assert response.status_code == 200
    assert "non è ancora aperto: potrai compilarlo da lunedì 11 marzo 2030, ore 14.00." in html
    assert "Invia il questionario" not in html
    assert "Invia il questionario" not in posted.content.decode()
    assert not Completion.objects.exists()


def test_page_at_opening_shows_the_form(client, dated_enrollment):
    with time_machine.travel(dt.datetime(2030, 3, 11, 14, 0, tzinfo=ROME), tick=False):
        client.force_login(dated_enrollment.user)
        response = client.get(_url(dated_enrollment.course))

    assert "Invia il questionario" in response.content.decode()


def test_page_after_closing_says_it_is_closed(client, enrollment):
    questionnaire = QuestionnaireFactory(
        course=enrollment.course,
        opens_at=dt.datetime(2020, 1, 1, tzinfo=ROME),
        closes_at=dt.datetime(2020, 2, 1, 12, 0, tzinfo=ROME),
    )
    assert questionnaire.pk
    client.force_login(enrollment.user)

    html = client.get(_url(enrollment.course)).content.decode()

    assert "Il questionario è chiuso da sabato 1 febbraio 2020, ore 12.00." in html


def test_page_after_completion_shows_the_date(client, enrollment):
    CompletionFactory(
        enrollment=enrollment, completed_at=dt.datetime(2026, 5, 4, 18, 30, tzinfo=ROME)
    )
    client.force_login(enrollment.user)

    html = client.get(_url(enrollment.course)).content.decode()

    assert "Hai compilato il questionario lunedì 4 maggio 2026 alle 18.30." in html
