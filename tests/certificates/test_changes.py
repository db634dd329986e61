"""Who re-issued or revoked a certificate, when and why (append-only); refusals that say
their real cause."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse

from attendance.models import Attendance
from certificates import services
from certificates.models import Certificate, CertificateChange
from certificates.services import (
    CertificateError,
    issue_certificate,
    reissue_certificate,
    revoke_certificate,
)
from courses.models import Session


def test_reissue_records_actor_time_reason_and_new_version(eligible, secretariat):
    old, _ = issue_certificate(enrollment=eligible)

    new = reissue_certificate(certificate=old, reason="Nome corretto", actor=secretariat)

    (change,) = CertificateChange.objects.all()
    assert change.certificate == old and change.replacement == new
    assert change.action == CertificateChange.Action.REISSUED
    assert change.changed_by == secretariat
    assert change.reason == "Nome corretto"
    old.refresh_from_db()
    assert change.changed_at == old.revoked_at


def test_revoke_by_the_system_records_no_actor(eligible):
    certificate, _ = issue_certificate(enrollment=eligible)

    revoke_certificate(certificate=certificate, reason="Rilasciato per errore", actor=None)

    (change,) = CertificateChange.objects.all()
    assert change.action == CertificateChange.Action.REVOKED
    assert change.changed_by is None and change.replacement is None
    assert change.reason == "Rilasciato per errore"


def test_a_refused_revocation_logs_nothing(eligible):
    certificate, _ = issue_certificate(enrollment=eligible)

    with pytest.raises(CertificateError, match="motivo"):
        revoke_certificate(certificate=certificate, reason="  ", actor=None)

    assert not CertificateChange.objects.exists()
    certificate.refresh_from_db()
    assert certificate.is_valid


def test_the_secretariat_revokes_and_sees_the_history(client, secretariat, eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    client.force_login(secretariat)
    url = reverse("certificates:course", kwargs={"slug": eligible.course.slug})

    client.post(url, {"action": "revoke", "certificate": certificate.pk, "reason": "Doppione"})

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    page = client.get(url).content.decode()
    history = page.split("Storico di revoche e nuove versioni", 1)[1]
    assert certificate.serial in history and "Doppione" in history
    who = secretariat.get_full_name() or secretariat.email
    assert who in history


def test_the_history_says_system_when_nobody_acted(client, secretariat, eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    reissue_certificate(certificate=certificate, reason="Correzione d'ufficio", actor=None)
    client.force_login(secretariat)

    page = client.get(
        reverse("certificates:course", kwargs={"slug": eligible.course.slug})
    ).content.decode()

    history = page.split("Storico di revoche e nuove versioni", 1)[1]
    assert "sistema" in history and "Correzione d&#x27;ufficio" in history


def test_the_change_log_is_read_only_in_the_admin(eligible, secretariat):
    from accounts.models import User

    certificate, _ = issue_certificate(enrollment=eligible)
    revoke_certificate(certificate=certificate, reason="Errore", actor=secretariat)
    admin = site._registry[CertificateChange]
    request = RequestFactory().get("/")
    request.user = User.objects.create_superuser(email="root@example.org", password="x")

    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, CertificateChange.objects.get())
    assert not admin.has_delete_permission(request, CertificateChange.objects.get())


# --- Refusals say their own cause ----------------------------------------------------------------


def test_attendance_beyond_the_course_length_is_not_called_already_issued(eligible):
    # A session shortened after attendance was recorded: 720 minutes attended of 660.
    session = eligible.course.sessions.order_by("date").first()
    Session.objects.filter(pk=session.pk).update(
        end=(dt.datetime.combine(session.date, session.end) - dt.timedelta(hours=1)).time()
    )
    Attendance.objects.filter(enrollment=eligible).update(minutes=240)

    with pytest.raises(CertificateError) as refused:
        issue_certificate(enrollment=eligible)

    assert "già" not in refused.value.message
    assert "superano la durata del corso" in refused.value.message
    assert not Certificate.objects.exists()


def test_a_verification_code_collision_is_retried_not_called_already_issued(
    make_eligible, monkeypatch
):
    first, _ = issue_certificate(enrollment=make_eligible())
    codes = iter([first.code])
    real = services.new_verification_code
    monkeypatch.setattr(services, "new_verification_code", lambda: next(codes, None) or real())

    second, created = issue_certificate(enrollment=make_eligible())

    assert created and second.code != first.code


def test_reissuing_a_replaced_version_names_the_newer_one(eligible):
    old, _ = issue_certificate(enrollment=eligible)
    new = reissue_certificate(certificate=old, reason="Nome corretto", actor=None)

    with pytest.raises(CertificateError, match=f"sostituito dalla versione n. {new.serial}"):
        reissue_certificate(certificate=old, reason="Ancora", actor=None)


def test_reissuing_a_revoked_certificate_says_revoked(eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    revoke_certificate(certificate=certificate, reason="Errore", actor=None)

    with pytest.raises(CertificateError, match="è stato revocato"):
        reissue_certificate(certificate=certificate, reason="Ancora", actor=None)


def test_the_secretariat_sees_the_real_refusal(client, secretariat, eligible):
    old, _ = issue_certificate(enrollment=eligible)
    new = reissue_certificate(certificate=old, reason="Nome corretto", actor=None)
    client.force_login(secretariat)
    url = reverse("certificates:course", kwargs={"slug": eligible.course.slug})

    response = client.post(
        url, {"action": "reissue", "certificate": old.pk, "reason": "Ancora"}, follow=True
    )

    assert f"sostituito dalla versione n. {new.serial}" in response.content.decode()


def test_a_code_that_keeps_colliding_says_so(make_eligible, monkeypatch):
    first, _ = issue_certificate(enrollment=make_eligible())
    monkeypatch.setattr(services, "new_verification_code", lambda: first.code)
    enrollment = make_eligible()

    with pytest.raises(CertificateError, match="codice di verifica generato è già in uso"):
        issue_certificate(enrollment=enrollment)
    assert not Certificate.objects.filter(enrollment=enrollment).exists()


def _revoke_twice_at_once(certificate: Certificate) -> list[object]:
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    results: list[object] = []

    def revoke(reason: str) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(revoke_certificate(certificate=certificate, reason=reason, actor=None))
        except Exception as exc:  # reported by the caller
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=revoke, args=(r,)) for r in ("Primo", "Secondo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_secretaries_revoking_at_once_log_one_revocation(eligible):
    certificate, _ = issue_certificate(enrollment=eligible)

    results = _revoke_twice_at_once(certificate)

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(results) == 2 and len(errors) == 1, results
    assert isinstance(errors[0], CertificateError) and "già revocato" in errors[0].message
    assert CertificateChange.objects.filter(certificate=certificate).count() == 1


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_locks_both_revocations_are_logged(eligible, monkeypatch):
    """Shows that the test above can fail: with the row locks gone, both read "valid"."""
    import threading

    from django.db.models import QuerySet

    certificate, _ = issue_certificate(enrollment=eligible)
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, **kwargs: self)
    both_read_valid = threading.Barrier(2)
    real_revoke = services._revoke

    def revoke_after_both_read(*args, **kwargs):
        both_read_valid.wait(timeout=10)
        return real_revoke(*args, **kwargs)

    monkeypatch.setattr(services, "_revoke", revoke_after_both_read)

    results = _revoke_twice_at_once(certificate)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert CertificateChange.objects.filter(certificate=certificate).count() == 2
