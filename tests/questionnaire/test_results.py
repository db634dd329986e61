from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from enrollment.models import Enrollment
from questionnaire.models import Question
from questionnaire.selectors import get_results, get_window, list_export_rows
from questionnaire.services import publish_pending_responses, submit_questionnaire
from tests.factories import EnrollmentFactory, UserFactory
from tests.questionnaire.factories import (
    AnswerFactory,
    CompletionFactory,
    QuestionFactory,
    ResponseSetFactory,
    question_ids,
)


def _submit_all(course, rows: list[dict[str, object]]) -> None:
    ids = question_ids(course.questionnaire)
    for row in rows:
        enrollment = EnrollmentFactory(course=course)
        submit_questionnaire(
            enrollment=enrollment, answers={ids[text]: value for text, value in row.items()}
        )


def _after_closing(questionnaire) -> time_machine.travel:
    """The clock one minute after the questionnaire closed; the task publishes at closing."""
    after = get_window(questionnaire).closes_at + dt.timedelta(minutes=1)
    publish_pending_responses(now=after)
    return time_machine.travel(after, tick=False)


@pytest.fixture
def answered(open_course, questionnaire, settings):
    """Four participants answered, the minimum for release here; two more have not."""
    settings.QUESTIONNAIRE_MIN_RESPONSES = 4
    _submit_all(
        open_course,
        [
            {"Contenuti": 5, "Lo consiglieresti?": "Sì", "Suggerimenti": "Più pause"},
            {"Contenuti": 4, "Lo consiglieresti?": "Sì"},
            {"Contenuti": 4, "Lo consiglieresti?": "No", "Suggerimenti": "=1+1"},
            {"Contenuti": 3},
        ],
    )
    EnrollmentFactory.create_batch(2, course=open_course)
    with _after_closing(questionnaire):
        yield open_course


def test_results_arithmetic(answered):
    results = get_results(answered)

    scale, choice, text = results.questions
    assert scale.count == 4
    assert scale.mean == 4.0
    assert scale.distribution == {1: 0, 2: 0, 3: 1, 4: 2, 5: 1}
    assert [bar.percent for bar in scale.bars] == [0.0, 0.0, 25.0, 50.0, 25.0]
    assert choice.count == 3
    assert choice.mean is None
    assert choice.distribution == {"Sì": 2, "No": 1}
    assert text.count == 2
    assert sorted(text.texts) == ["=1+1", "Più pause"]
    assert results.responses == 4
    assert (results.completed, results.confirmed) == (4, 6)
    assert results.response_rate == pytest.approx(4 / 6)
    assert results.response_rate_percent == 66.7


def test_mean_is_not_rounded_to_whole_numbers(open_course, questionnaire, settings):
    settings.QUESTIONNAIRE_MIN_RESPONSES = 3
    _submit_all(open_course, [{"Contenuti": 5}, {"Contenuti": 4}, {"Contenuti": 4}])

    with _after_closing(questionnaire):
        assert get_results(open_course).questions[0].mean == 4.33


def test_response_rate_counts_only_confirmed_participants(open_course, questionnaire):
    _submit_all(open_course, [{"Contenuti": 5}])
    cancelled = EnrollmentFactory(course=open_course, status=Enrollment.Status.CANCELLED)
    CompletionFactory(enrollment=cancelled)
    EnrollmentFactory(course=open_course, status=Enrollment.Status.WAITLISTED)
    EnrollmentFactory(course=open_course)

    results = get_results(open_course)

    assert (results.completed, results.confirmed) == (1, 2)
    assert results.response_rate == 0.5


def test_no_confirmed_participants_has_no_rate(open_course, questionnaire):
    results = get_results(open_course)

    assert results.response_rate is None
    assert results.responses == 0


def test_bars_are_scaled_to_the_most_chosen_value(answered):
    bars = get_results(answered).questions[0].bars

    assert [bar.width for bar in bars] == [0.0, 0.0, 180.0, 360.0, 180.0]


# --- Pages -------------------------------------------------------------------------------------


def _results_url(course) -> str:
    return reverse("questionnaire:results", kwargs={"slug": course.slug})


def _export_url(course) -> str:
    return reverse("questionnaire:export_csv", kwargs={"slug": course.slug})


def test_urls_of_the_secretariat_pages(open_course):
    base = f"/segreteria/courses/{open_course.slug}/questionnaire/"
    assert _results_url(open_course) == base
    assert _export_url(open_course) == base + "export.csv"
    assert reverse("questionnaire:edit", kwargs={"slug": open_course.slug}) == base + "edit/"


@pytest.mark.parametrize("url", [_results_url, _export_url])
def test_secretariat_pages_need_the_permission(client, open_course, participant, url):
    assert client.get(url(open_course)).status_code == 302  # anonymous: to the login page
    client.force_login(participant)
    assert client.get(url(open_course)).status_code == 403
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(url(open_course)).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_results"))
    client.force_login(type(staff).objects.get(pk=staff.pk))
    response = client.get(url(open_course))
    # Allowed in: the export, with nothing to release yet, sends back to the results page.
    assert (response.status_code, response.get("Location")) in [
        (200, None),
        (302, _results_url(open_course)),
    ]


def test_results_page_shows_accessible_charts_and_the_numbers(client, secretariat, answered):
    client.force_login(secretariat)

    response = client.get(_results_url(answered))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') == 2  # the scale and the single choice
    assert '<title id="chart-' in html
    assert "<desc id=" in html and "3 – Sufficiente: 1" in html
    # Numbers as a table too, and SVG coordinates never in the Italian decimal format.
    assert (
        '<th scope="row">4 – Buono</th><td class="text-end">2</td><td class="text-end">50%' in html
    )
    assert not re.search(r'(width|x|y)="\d+,\d', html)
    assert "media 4,00 su 5" in html
    assert "66,7% (4 su 6)" in html
    assert "Più pause" in html and "=1+1" in html
    assert _export_url(answered) in html


def test_results_page_works_before_anyone_looked_at_the_questionnaire(client, secretariat, course):
    client.force_login(secretariat)

    response = client.get(_results_url(course))

    assert response.status_code == 200
    assert "I risultati saranno disponibili alla chiusura del questionario" in (
        response.content.decode()
    )


def _read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_export_has_one_row_per_response_and_defuses_formulas(client, secretariat, answered):
    client.force_login(secretariat)

    response = client.get(_export_url(answered))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    header, *rows = _read_csv(response)
    assert header == ["Contenuti", "Lo consiglieresti?", "Suggerimenti"]
    assert sorted(rows) == sorted(
        [["5", "Sì", "Più pause"], ["4", "Sì", ""], ["4", "No", "'=1+1"], ["3", "", ""]]
    )


def test_export_is_in_random_id_order_not_submission_order(questionnaire):
    question = questionnaire.questions.get(kind=Question.Kind.TEXT)
    response_sets = ResponseSetFactory.create_batch(8, questionnaire=questionnaire)
    for i, response_set in enumerate(response_sets):
        AnswerFactory(response_set=response_set, question=question, text_value=str(i))

    _header, rows = list_export_rows(questionnaire)

    by_id = sorted(response_sets, key=lambda rs: str(rs.pk))
    assert [row[2] for row in rows] == [str(response_sets.index(rs)) for rs in by_id]


def test_export_includes_a_response_with_every_answer_left_blank(questionnaire):
    QuestionFactory(questionnaire=questionnaire, order=9, kind=Question.Kind.TEXT, required=False)
    ResponseSetFactory(questionnaire=questionnaire)

    _header, rows = list_export_rows(questionnaire)

    assert rows == [["", "", "", ""]]


# --- Release: only from the minimum number of responses, and only once closed ---------------


def _one_by_one(course, count: int) -> None:
    _submit_all(
        course, [{"Contenuti": 1 + i % 5, "Suggerimenti": f"persona {i}"} for i in range(count)]
    )


def _assert_nothing_but_the_count(html: str, count: int) -> None:
    assert f'<dd class="col-sm-6">{count}</dd>' in html  # questionari compilati
    assert "persona " not in html
    assert 'role="img"' not in html and "results-table" not in html
    assert "question-result" not in html
    assert "Contenuti" not in html
    assert _export_url_marker not in html


_export_url_marker = "export.csv"


def test_a_single_response_is_never_shown_even_after_closing(
    client, secretariat, open_course, questionnaire
):
    # The seed course's case: one person answered, and the page showed exactly their answers.
    _one_by_one(open_course, 1)
    client.force_login(secretariat)

    with _after_closing(questionnaire):
        results = get_results(open_course)
        html = client.get(_results_url(open_course)).content.decode()

    assert (results.release.released, results.release.enough, results.release.closed) == (
        False,
        False,
        True,
    )
    assert results.questions == []
    assert results.responses == 1
    _assert_nothing_but_the_count(html, 1)
    assert "I risultati si mostrano solo quando le risposte sono almeno 5:" in html


def test_one_response_below_the_minimum_is_withheld_and_the_minimum_is_shown(
    open_course, questionnaire, settings
):
    settings.QUESTIONNAIRE_MIN_RESPONSES = 6
    _one_by_one(open_course, 5)

    with _after_closing(questionnaire):
        results = get_results(open_course)

    assert not results.release.released and results.release.minimum == 6
    assert results.questions == []


def test_exactly_the_minimum_is_released_after_closing(
    client, secretariat, open_course, questionnaire
):
    _one_by_one(open_course, 5)
    client.force_login(secretariat)

    with _after_closing(questionnaire):
        results = get_results(open_course)
        html = client.get(_results_url(open_course)).content.decode()

    assert results.release.released
    assert results.questions[0].count == 5
    assert "persona 4" in html and _export_url(open_course) in html


def test_results_are_withheld_until_closing_even_with_enough_responses(
    client, secretariat, open_course, questionnaire
):
    # Not live: were results shown while open, two looks apart would tell one person's answers.
    _one_by_one(open_course, 10)
    assert publish_pending_responses() == 5  # a batch published while open
    client.force_login(secretariat)
    closes_at = get_window(questionnaire).closes_at

    with time_machine.travel(closes_at - dt.timedelta(minutes=1), tick=False):
        results = get_results(open_course)
        html = client.get(_results_url(open_course)).content.decode()

    release = results.release
    assert (release.released, release.closed, release.enough) == (False, False, True)
    assert results.questions == []
    _assert_nothing_but_the_count(html, 10)
    assert "I risultati saranno disponibili alla chiusura del questionario" in html
    assert f"{closes_at:%H.%M}, se le risposte saranno almeno 5." in html


def test_after_closing_results_wait_for_the_last_answers_to_be_published(
    client, secretariat, open_course, questionnaire
):
    _one_by_one(open_course, 5)
    client.force_login(secretariat)
    after = get_window(questionnaire).closes_at + dt.timedelta(minutes=1)

    with time_machine.travel(after, tick=False):
        results = get_results(open_course)
        html = client.get(_results_url(open_course)).content.decode()

    # Showing what was published so far, then the rest, would isolate the latecomers.
    release = results.release
    assert (release.released, release.closed, release.publishing) == (False, True, True)
    _assert_nothing_but_the_count(html, 5)
    assert "Le ultime risposte sono in corso di pubblicazione" in html


@pytest.mark.parametrize(("count", "moment"), [(1, "closed"), (10, "open"), (5, "pending")])
def test_csv_export_is_refused_while_results_are_withheld(
    client, secretariat, open_course, questionnaire, count, moment
):
    _one_by_one(open_course, count)
    publish_pending_responses()
    closes_at = get_window(questionnaire).closes_at
    if moment == "closed":
        publish_pending_responses(now=closes_at)
    now = closes_at - dt.timedelta(minutes=1) if moment == "open" else closes_at
    client.force_login(secretariat)

    with time_machine.travel(now, tick=False):
        response = client.get(_export_url(open_course))
        page = client.get(response.url).content.decode() if response.status_code == 302 else ""

    assert response.status_code == 302
    assert response.url == _results_url(open_course)
    assert "Content-Disposition" not in response
    assert "Esportazione non disponibile" in page
