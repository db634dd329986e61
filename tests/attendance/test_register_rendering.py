"""The register renders its hundreds of inputs without one template per input, to the same
HTML that Django's widget templates write."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from attendance.forms import Mode, RegisterRowForm
from tests.attendance.factories import AttendanceFactory
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def secretariat_client(secretariat):
    client = Client()
    client.force_login(secretariat)
    return client


class _TemplateRendered(RegisterRowForm):
    """The same form with Django's own widgets, rendered through their templates."""

    mode = forms.ChoiceField(
        choices=RegisterRowForm.base_fields["mode"].choices,
        required=False,
        widget=forms.RadioSelect,
        label="Presenza",
    )
    entry = forms.TimeField(
        required=False,
        label="Entrata",
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
    )
    exit = forms.TimeField(
        required=False,
        label="Uscita",
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
    )
    minutes = forms.IntegerField(label="Minuti", required=False, min_value=0)


def _html(form: forms.Form) -> list[str]:
    return [str(radio.tag()) for radio in form["mode"]] + [
        str(form[name]) for name in ("entry", "exit", "minutes")
    ]


@pytest.mark.parametrize(
    ("initial", "data"),
    [
        ({"mode": Mode.NONE}, None),
        ({"mode": Mode.TIMES, "entry": dt.time(9, 5), "exit": dt.time(12, 0)}, None),
        ({"mode": Mode.MINUTES, "minutes": 95}, None),
        (None, {"r7-mode": Mode.TIMES, "r7-entry": "9:6x", "r7-exit": '"><script>'}),
    ],
    ids=["empty", "times", "minutes", "bound-with-bad-input"],
)
def test_register_inputs_are_the_html_of_djangos_widget_templates(course, initial, data):
    session = course.sessions.first()
    kwargs = {"prefix": "r7", "initial": initial, "session": session, "enrollment_id": 7}
    fast, slow = RegisterRowForm(data, **kwargs), _TemplateRendered(data, **kwargs)
    assert _html(fast) == _html(slow)
    assert "<script>" not in "".join(_html(fast))


def test_register_renders_no_template_per_participant(secretariat_client, course):
    session = course.sessions.first()
    for _ in range(30):
        AttendanceFactory(session=session, enrollment=EnrollmentFactory(course=course))
    response = secretariat_client.get(reverse("attendance:register", kwargs={"pk": session.pk}))
    assert response.status_code == 200
    names = [t.name for t in response.templates]
    assert len(names) < 30, sorted(set(names))
    assert response.content.decode().count('type="radio"') == 30 * 5
