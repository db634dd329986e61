"""The course admin, seen from enrolment: quotas in use are guarded, raised seats are filled."""

from __future__ import annotations

import pytest
from django.urls import reverse

from courses.models import CourseQuota
from enrollment.models import Enrollment, EnrollmentChange, Notification
from enrollment.services import enroll_participant
from tests.enrollment.helpers import open_course, people, quota_course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Enrollment.Status


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _form_data(response) -> dict:
    """The admin change form as the browser would post it back, unchanged."""
    data: dict = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[f"{formset.prefix}-{name}"] = management[name].value()
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            if isinstance(value, (list, tuple)):
                data[form.add_prefix(name)] = [str(v) for v in value]
            else:
                data[form.add_prefix(name)] = value
    return data


def _quota_prefix(data: dict, organisation_type: str) -> str:
    for key, value in data.items():
        if (
            key.startswith("quotas-")
            and key.endswith("-organisation_type")
            and value == (organisation_type)
        ):
            return key.rsplit("-", 1)[0]
    raise AssertionError(organisation_type)


def _change(admin_client, course, edit):
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = _form_data(admin_client.get(url))
    edit(data)
    return admin_client.post(url, data)


def test_admin_refuses_to_delete_a_quota_still_used_by_enrolments(admin_client):
    course = quota_course(terzo_settore=1, comune=1)
    people_comune = people(1, organisation_type="comune")
    enroll_participant(user=people_comune[0], course=course)

    def delete_comune(data):
        data[f"{_quota_prefix(data, 'comune')}-DELETE"] = "on"

    response = _change(admin_client, course, delete_comune)
    assert response.status_code == 200  # the form again, with the error
    assert "non si può eliminare" in response.content.decode()
    assert CourseQuota.objects.filter(course=course, organisation_type="comune").exists()


def test_admin_refuses_to_change_the_type_of_a_quota_in_use(admin_client):
    course = quota_course(comune=2)
    enroll_participant(user=people(1, organisation_type="comune")[0], course=course)

    def retype(data):
        data[f"{_quota_prefix(data, 'comune')}-organisation_type"] = "asst"

    response = _change(admin_client, course, retype)
    assert response.status_code == 200
    assert "non si può cambiare" in response.content.decode()
    assert CourseQuota.objects.get(course=course).organisation_type == "comune"


def test_admin_may_delete_a_quota_nobody_uses(admin_client):
    course = quota_course(terzo_settore=1, comune=1)

    def delete_comune(data):
        data[f"{_quota_prefix(data, 'comune')}-DELETE"] = "on"

    assert _change(admin_client, course, delete_comune).status_code == 302
    assert list(course.quotas.values_list("organisation_type", flat=True)) == ["terzo_settore"]


def test_raising_the_capacity_in_the_admin_promotes_the_waiting_in_order(
    admin_client, django_capture_on_commit_callbacks
):
    course = open_course(capacity=1)
    enrolled = [enroll_participant(user=u, course=course) for u in people(4)]
    assert [e.status for e in enrolled] == [S.CONFIRMED] + [S.WAITLISTED] * 3

    def raise_capacity(data):
        data["capacity"] = "3"

    with django_capture_on_commit_callbacks(execute=True):
        assert _change(admin_client, course, raise_capacity).status_code == 302
    statuses = [Enrollment.objects.get(pk=e.pk).status for e in enrolled]
    assert statuses == [S.CONFIRMED, S.CONFIRMED, S.CONFIRMED, S.WAITLISTED]
    promoted = EnrollmentChange.objects.filter(action=EnrollmentChange.Action.PROMOTED)
    assert sorted(promoted.values_list("enrollment_id", flat=True)) == [
        enrolled[1].pk,
        enrolled[2].pk,
    ]
    assert Notification.objects.filter(kind="promoted").count() == 2


def test_raising_a_quota_in_the_admin_promotes_the_first_waiting_for_it(
    admin_client, django_capture_on_commit_callbacks
):
    course = quota_course(comune=1, terzo_settore=1)
    course.capacity = 5
    course.save(update_fields=["capacity"])
    first, w1, w2 = [
        enroll_participant(user=u, course=course) for u in people(3, organisation_type="comune")
    ]
    assert (w1.status, w2.status) == (S.WAITLISTED, S.WAITLISTED)

    def raise_comune(data):
        data[f"{_quota_prefix(data, 'comune')}-seats"] = "2"

    with django_capture_on_commit_callbacks(execute=True):
        assert _change(admin_client, course, raise_comune).status_code == 302
    w1.refresh_from_db()
    w2.refresh_from_db()
    assert (w1.status, w2.status) == (S.CONFIRMED, S.WAITLISTED)
