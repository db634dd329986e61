"""Batch issuing (management command), the Celery tasks and the periodic catch-up."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from certificates.models import Certificate
from certificates.services import issue_course_certificates
from certificates.tasks import issue_certificate_if_eligible_task, queue_due_certificates
from portal.celery import app
from questionnaire.models import Completion
from questionnaire.signals import questionnaire_completed
from tests.certificates.conftest import broker_down


def _run(code: str) -> str:
    out = StringIO()
    call_command("issue_certificates", code, stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_batch_issues_once_and_reports_who_misses_what(make_eligible, ended_course):
    ready = [make_eligible(720), make_eligible(576)]
    short = make_eligible(535)
    no_questionnaire = make_eligible(700, questionnaire=False)

    first = _run("C5092Z/1")
    second = _run("c5092z/1")

    assert "Attestati emessi: 2" in first
    assert "Attestati emessi: 0" in second
    assert "Già emessi in precedenza: 2" in second
    assert Certificate.objects.count() == 2
    assert {c.enrollment_id for c in Certificate.objects.all()} == {e.pk for e in ready}
    for output in (first, second):
        assert "Senza i requisiti: 2" in output
        assert f"<{short.user.email}>: mancano 41 minuti" in output
        assert f"<{no_questionnaire.user.email}>: compila il questionario di gradimento" in output


def test_batch_unknown_course(db):
    with pytest.raises(CommandError):
        _run("NOPE/1")


def test_batch_issues_late_attendance(make_eligible, ended_course):
    enrollment = make_eligible(480)
    assert issue_course_certificates(course=ended_course).issued == []

    # Attendance of the last session finalised after the course ended.
    from attendance.models import Source
    from attendance.services import record_attendance

    last = ended_course.sessions.order_by("-date").first()
    record_attendance(
        enrollment=enrollment, session=last, minutes=120, recorded_by=None, source=Source.ADMIN
    )

    result = issue_course_certificates(course=ended_course)
    assert [c.enrollment_id for c in result.issued] == [enrollment.pk]


def test_issue_task_is_registered_under_its_module_name():
    # Workers and messages already queued know the task by this name.
    name = "certificates.tasks.issue_certificate_if_eligible_task"
    assert issue_certificate_if_eligible_task.name == name
    assert name in app.tasks


def test_a_completed_questionnaire_issues_the_certificate(make_eligible):
    # The questionnaire only announces the completion; certificates listens and issues.
    enrollment = make_eligible(600)

    questionnaire_completed.send(sender=Completion, enrollment_id=enrollment.pk)

    assert Certificate.objects.get().enrollment == enrollment


def test_a_completion_announced_with_the_broker_down_is_left_to_the_periodic_task(make_eligible):
    enrollment = make_eligible(600)

    with broker_down():
        questionnaire_completed.send(sender=Completion, enrollment_id=enrollment.pk)

    assert not Certificate.objects.exists()
    assert queue_due_certificates(within_days=60) == 1
    assert Certificate.objects.get().enrollment == enrollment


def test_issue_task_is_idempotent(eligible):
    first = issue_certificate_if_eligible_task.delay(eligible.pk).get()
    second = issue_certificate_if_eligible_task.delay(eligible.pk).get()

    assert first == second
    assert Certificate.objects.filter(enrollment=eligible).count() == 1


def test_issue_task_ignores_ineligible_and_missing(make_eligible):
    enrollment = make_eligible(100)

    assert issue_certificate_if_eligible_task.delay(enrollment.pk).get() is None
    assert issue_certificate_if_eligible_task.delay(999_999).get() is None
    assert not Certificate.objects.exists()


def test_periodic_catch_up_issues_what_became_due(make_eligible, ended_course):
    due = make_eligible(600)
    make_eligible(10)

    assert queue_due_certificates(within_days=60) == 1
    assert Certificate.objects.get().enrollment == due
    assert queue_due_certificates(within_days=60) == 0


def test_periodic_catch_up_ignores_old_courses(make_eligible):
    make_eligible(600)

    assert queue_due_certificates(within_days=3) == 0
    assert not Certificate.objects.exists()
