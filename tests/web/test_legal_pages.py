"""The pages a public site must have: the footer links, the accessibility statement and its
feedback form (stored, forwarded to the secretariat, rate-limited), privacy, legal notes,
contacts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from web.emails import send_accessibility_feedback
from web.models import AccessibilityFeedback
from web.tasks import flush_accessibility_feedback_task, purge_old_accessibility_feedback_task

pytestmark = pytest.mark.django_db

PAGES = ["web:accessibility", "web:privacy", "web:legal_notes", "web:contacts"]
FEEDBACK = {
    "name": "Anna Verdi",
    "email": "anna.verdi@example.org",
    "page_url": "https://corsi.example.org/verify/",
    "message": "Il campo del codice non si raggiunge con il tasto Tab.",
}


def test_the_footer_links_every_legal_page(client):
    page = client.get(reverse("courses:catalogue")).content.decode()

    for name in PAGES:
        assert f'href="{reverse(name)}"' in page


@pytest.mark.parametrize("name", PAGES)
def test_each_page_is_public_with_one_main_heading(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    assert response.content.decode().count("<h1") == 1


def test_accessibility_page_links_the_statement_published_on_agid(client, settings):
    settings.ACCESSIBILITY_STATEMENT_URL = "https://form.agid.gov.it/view/abc-123"

    page = client.get(reverse("web:accessibility")).content.decode()

    assert 'href="https://form.agid.gov.it/view/abc-123"' in page
    assert f'href="mailto:{settings.PORTAL_SECRETARIAT_EMAIL}"' in page
    assert re.search(r'<label[^>]*for="id_message"', page)


def test_accessibility_page_without_a_statement_url_says_it_is_coming(client, settings):
    settings.ACCESSIBILITY_STATEMENT_URL = ""

    page = client.get(reverse("web:accessibility")).content.decode()

    assert "in corso di pubblicazione" in page


def test_feedback_is_stored_and_forwarded_to_the_secretariat(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:accessibility"), FEEDBACK, follow=True)

    assert "la segnalazione è stata inviata alla segreteria" in response.content.decode()
    feedback = AccessibilityFeedback.objects.get()
    assert feedback.email == FEEDBACK["email"]
    assert feedback.message == FEEDBACK["message"]
    assert feedback.email_status == AccessibilityFeedback.EmailStatus.SENT
    assert feedback.emailed_at is not None
    [message] = mailoutbox
    assert message.to == [settings.PORTAL_SECRETARIAT_EMAIL]
    assert message.reply_to == [FEEDBACK["email"]]
    assert FEEDBACK["message"] in message.body
    assert FEEDBACK["page_url"] in message.body


def test_feedback_is_forwarded_once_even_if_the_task_runs_twice(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:accessibility"), FEEDBACK)
    feedback = AccessibilityFeedback.objects.get()

    assert send_accessibility_feedback(feedback_id=feedback.pk) is False
    assert len(mailoutbox) == 1


def test_incomplete_feedback_is_refused_and_nothing_is_sent(client, mailoutbox):
    response = client.post(reverse("web:accessibility"), {**FEEDBACK, "message": "", "email": "x"})

    assert response.status_code == 200
    assert not AccessibilityFeedback.objects.exists()
    assert mailoutbox == []


def test_feedback_is_rate_limited_per_address(client, settings):
    settings.RATELIMIT_ENABLE = True
    url = reverse("web:accessibility")
    statuses = [client.post(url, FEEDBACK).status_code for _ in range(6)]

    assert statuses == [302] * 5 + [429]
    assert AccessibilityFeedback.objects.count() == 5


def test_a_signed_in_person_finds_their_address_filled_in(client, participant):
    client.force_login(participant)

    page = client.get(reverse("web:accessibility")).content.decode()

    assert f'value="{participant.email}"' in page


def test_privacy_page_is_the_notice_shown_at_sign_up(client):
    notice = client.get(reverse("accounts:signup")).content.decode()
    page = client.get(reverse("web:privacy")).content.decode()

    marker = "nell'esecuzione di un compito di interesse pubblico"
    assert marker in notice
    assert marker in page


def test_contacts_show_the_organisers_details_from_settings(client, settings):
    settings.PORTAL_SECRETARIAT_PHONE = "+39 02 7740 1"
    settings.PORTAL_SECRETARIAT_ADDRESS = "Viale Piceno 60, 20129 Milano"

    page = client.get(reverse("web:contacts")).content.decode()

    assert settings.PORTAL_ORGANISER in page
    assert 'href="tel:+390277401"' in page
    assert "Viale Piceno 60, 20129 Milano" in page
    assert f'href="mailto:{settings.PORTAL_SECRETARIAT_EMAIL}"' in page


def test_a_report_left_pending_by_a_broker_outage_is_forwarded_by_the_periodic_task(
    mailoutbox, settings
):
    feedback = AccessibilityFeedback.objects.create(
        email="anna.verdi@example.org",
        message="Contrasto insufficiente",
        created_at=timezone.now() - dt.timedelta(minutes=10),
    )

    assert flush_accessibility_feedback_task() == 1

    feedback.refresh_from_db()
    assert feedback.email_status == AccessibilityFeedback.EmailStatus.SENT
    assert [m.to for m in mailoutbox] == [[settings.PORTAL_SECRETARIAT_EMAIL]]
    assert flush_accessibility_feedback_task() == 0


def test_reports_are_deleted_after_the_retention_period(settings):
    settings.ACCESSIBILITY_FEEDBACK_RETENTION_DAYS = 365
    now = timezone.now()
    old = AccessibilityFeedback.objects.create(
        email="a@example.org", message="x", created_at=now - dt.timedelta(days=366)
    )
    recent = AccessibilityFeedback.objects.create(
        email="b@example.org", message="y", created_at=now - dt.timedelta(days=364)
    )

    assert purge_old_accessibility_feedback_task() == 1

    assert list(AccessibilityFeedback.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not AccessibilityFeedback.objects.filter(pk=old.pk).exists()
