from __future__ import annotations

from django.urls import reverse

from questionnaire.services import get_or_create_questionnaire
from tests.factories import UserFactory
from tests.questionnaire.factories import CompletionFactory


def test_admin_lists_questionnaires_with_links_and_completions_read_only(client, course):
    questionnaire = get_or_create_questionnaire(course=course)
    completion = CompletionFactory(enrollment__course=course)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:questionnaire_questionnaire_changelist"))
    results_url = reverse("questionnaire:results", kwargs={"slug": course.slug})
    assert results_url in listing.content.decode()
    page = client.get(reverse("admin:questionnaire_questionnaire_change", args=[questionnaire.pk]))
    assert page.status_code == 200
    assert client.get(reverse("admin:questionnaire_completion_changelist")).status_code == 200
    assert client.get(reverse("admin:questionnaire_completion_add")).status_code == 403
    change = client.get(reverse("admin:questionnaire_completion_change", args=[completion.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
