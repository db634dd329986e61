"""The participant's and the secretariat's journey in a real browser, from sign-up to the
verified certificate; and the waiting list when the seats are gone."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from tests.e2e.support import UNAVAILABLE, label, log_in, tick

if UNAVAILABLE:
    pytest.skip(UNAVAILABLE, allow_module_level=True)

from playwright.sync_api import expect

from accounts.models import Profile, User
from certificates.models import Certificate
from core.pagecache import invalidate_course_content
from courses.models import Course, Session
from enrollment.models import Enrollment
from portal.demo_data import demo_codice_fiscale
from tests.factories import (
    PASSWORD,
    CourseFactory,
    EnrollmentFactory,
    ParticipantFactory,
    SecretariatFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Un-Buona-Password-2026"


def _link_path(body: str) -> str:
    # The e-mail's links carry SITE_URL's host: the browser stays on the live server's.
    parts = urlsplit(re.search(r"https?://\S+", body).group())
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _move_course_into_the_past(course: Course) -> None:
    """Let the course take place: its sessions move to the last weeks, its deadline before them.

    Enrolling needs an open course, so the journey enrols first and moves the dates afterwards
    (a raw update: the portal has no service to reschedule a course, only the admin).
    """
    today = timezone.localdate()
    sessions = list(course.sessions.order_by("date", "start"))
    for weeks_ago, session in zip(range(len(sessions), 0, -1), sessions, strict=True):
        Session.objects.filter(pk=session.pk).update(date=today - dt.timedelta(weeks=weeks_ago))
    Course.objects.filter(pk=course.pk).update(
        enrollment_deadline=today - dt.timedelta(weeks=len(sessions) + 1)
    )
    invalidate_course_content()  # as the admin does when it saves a course


def test_participant_signs_up_enrols_and_gets_a_verifiable_certificate(
    e2e, page, mailoutbox, tmp_path
):
    # given a course whose requests the secretariat confirms, and a member of the secretariat
    course = CourseFactory(requires_approval=True, title="Il lavoro di rete nei servizi sociali")
    staff = SecretariatFactory()
    aside = page.get_by_role("complementary", name="Informazioni e iscrizione")

    # when a visitor signs up from the course page
    page.goto(course.get_absolute_url())
    aside.get_by_role("link", name="Registrati").click()
    page.get_by_label(label("Nome")).fill("Maria")
    page.get_by_label(label("Cognome")).fill("Esposito")
    page.get_by_label(label("Indirizzo e-mail")).fill("maria.esposito@comune.example.org")
    page.get_by_label(label("Password")).fill(NEW_PASSWORD)
    page.get_by_label(label("Ripeti la password")).fill(NEW_PASSWORD)
    e2e.step("signup-form")
    page.get_by_role("button", name="Registrati").click()

    # then she is asked to confirm her address: the link's page asks for her password, then
    # signs her in and asks for her profile
    expect(page.get_by_role("heading", name="Controlla la posta")).to_be_visible()
    (message,) = mailoutbox
    assert message.to == ["maria.esposito@comune.example.org"]
    page.goto(_link_path(message.body))
    expect(page.get_by_role("heading", name="Attiva l'account")).to_be_visible()
    page.get_by_label(label("Password")).fill(NEW_PASSWORD)
    page.get_by_label(label("Ripeti la password")).fill(NEW_PASSWORD)
    e2e.step("activate")
    page.get_by_role("button", name="Attiva l'account").click()
    expect(page).to_have_url(re.compile(r"/accounts/profile/"))
    expect(page.get_by_text("Indirizzo confermato.")).to_be_visible()
    page.get_by_label(label("Codice fiscale")).fill(demo_codice_fiscale(9001, female=True))
    page.get_by_label(label("Professione")).select_option("assistente_sociale")
    page.get_by_label(label("Ente di appartenenza")).fill("Comune di Bollate")
    page.get_by_label(label("Tipo di ente")).select_option("comune")
    e2e.step("profile")
    page.get_by_role("button", name="Salva il profilo").click()

    # and, back on the course, she asks to enrol
    expect(page).to_have_url(re.compile(re.escape(course.get_absolute_url()) + "$"))
    expect(page.get_by_text("Profilo salvato.")).to_be_visible()
    aside.get_by_role("button", name="Iscriviti", exact=True).click()
    expect(page.get_by_text("Richiesta inviata.")).to_be_visible()
    expect(aside).to_contain_text("In attesa di conferma")
    e2e.step("requested")
    user = User.objects.get(email="maria.esposito@comune.example.org")
    assert Profile.objects.get(user=user).is_complete

    # when the secretariat signs in and confirms the request
    office = e2e.new_page("secretariat")
    office.goto("/accounts/login/")
    log_in(office, email=staff.email, password=PASSWORD)
    office.get_by_role("navigation", name="Menu principale").get_by_role(
        "link", name="Segreteria"
    ).click()
    office.get_by_role("link", name=f"Iscrizioni {course.code}").click()
    tick(office.get_by_label("Seleziona Maria Esposito"))
    office.get_by_label(label("Azione")).select_option("approve")
    e2e.step("approve", office)
    office.get_by_role("button", name="Applica alle selezionate").click()

    # then the enrolment is confirmed
    expect(office.get_by_text("Iscrizioni aggiornate: 1.")).to_be_visible()
    expect(office.get_by_role("row", name=re.compile("Esposito Maria"))).to_contain_text(
        "Confermata"
    )
    assert Enrollment.objects.get(user=user, course=course).status == Enrollment.Status.CONFIRMED

    # when the course has taken place and the secretariat fills in every session's register
    _move_course_into_the_past(course)
    office.get_by_role("link", name="Segreteria", exact=True).first.click()
    office.get_by_role("link", name=f"Presenze {course.code}").click()
    registers = office.get_by_role("link", name=re.compile(r"^registro presenze"))
    expect(registers).to_have_count(3)
    for n in range(3):
        registers.nth(n).click()
        tick(office.get_by_label("Presente intera sessione"))
        office.get_by_role("button", name="Salva il registro").click()
        expect(office.get_by_text("Registro salvato: 1 presenza aggiornata")).to_be_visible()
        e2e.step(f"register-{n + 1}", office)
        office.get_by_role("link", name="Riepilogo del corso").click()

    # then she has reached the attendance threshold
    expect(office.get_by_text("1 partecipante su 1 ha raggiunto la soglia.")).to_be_visible()

    # when she fills in the questionnaire from the course page
    page.goto(course.get_absolute_url())
    page.get_by_role("link", name="Compila il questionario").click()
    for question in page.locator("fieldset.question").all():
        tick(question.get_by_role("radio").last)
    page.get_by_label(label("6. Suggerimenti")).fill("Più esercitazioni pratiche.")
    e2e.step("questionnaire")
    page.get_by_role("button", name="Invia il questionario").click()
    expect(page.get_by_text("Grazie: il questionario è stato inviato.")).to_be_visible()

    # then her signed certificate is waiting in "I miei attestati"
    page.get_by_role("navigation", name="Menu principale").get_by_role(
        "link", name="I miei attestati"
    ).click()
    e2e.step("my-certificates")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"^Scarica \.pdf\.p7m")).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf.p7m")
    p7m = tmp_path / download.suggested_filename
    download.save_as(p7m)

    # and it verifies with openssl against the CA certificate the portal publishes
    ca = page.request.get("/verify/ca.pem")
    assert ca.ok
    (tmp_path / "ca.pem").write_bytes(ca.body())
    extracted = tmp_path / "attestato.pdf"
    verified = subprocess.run(
        [
            "openssl", "cms", "-verify", "-cades", "-inform", "DER", "-binary",
            "-CAfile", str(tmp_path / "ca.pem"), "-in", str(p7m), "-out", str(extracted),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert extracted.read_bytes().startswith(b"%PDF-")

    # when anyone checks its code on the public verification page
    certificate = Certificate.objects.get(enrollment__user=user)
    verifier = e2e.new_page("verifier")
    verifier.goto("/verify/")
    verifier.get_by_label(label("Codice di verifica")).fill(certificate.code.lower())
    verifier.get_by_role("button", name="Verifica il codice").click()

    # then the page says it is valid
    expect(verifier).to_have_url(re.compile(rf"/verify/{certificate.code}/$"))
    expect(verifier.get_by_text("Attestato valido, rilasciato da questo portale.")).to_be_visible()
    e2e.step("verified", verifier)

    # and the downloaded file itself passes the check too
    verifier.get_by_role("link", name="Verifica un altro attestato").click()
    verifier.get_by_label(label("File firmato")).set_input_files(p7m)
    verifier.get_by_role("button", name="Verifica il file").click()
    expect(verifier.get_by_text("Firma valida: il file è integro")).to_be_visible()


def test_the_21st_participant_joins_the_waiting_list(e2e, page):
    # given a 20-seat course whose seats are all taken
    course = CourseFactory(capacity=20)
    EnrollmentFactory.create_batch(20, course=course)
    latecomer = ParticipantFactory(first_name="Ultima", last_name="Arrivata")
    aside = page.get_by_role("complementary", name="Informazioni e iscrizione")

    # when one more participant signs in from the course page
    page.goto(course.get_absolute_url())
    expect(aside).to_contain_text("Posti esauriti: lista d'attesa")
    aside.get_by_role("link", name="Accedi e iscriviti").click()
    log_in(page, email=latecomer.email, password=PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(course.get_absolute_url()) + "$"))
    e2e.step("signed-in")

    # and enrols
    aside.get_by_role("button", name=re.compile(r"^Iscriviti")).click()

    # then she is told she is on the waiting list, first in line, and no seat was overbooked
    expect(page.get_by_text("I posti sono esauriti: sei in lista d'attesa.")).to_be_visible()
    expect(aside).to_contain_text("In lista d'attesa – posizione 1 in lista d'attesa")
    e2e.step("waitlisted")
    enrollment = Enrollment.objects.get(user=latecomer, course=course)
    assert enrollment.status == Enrollment.Status.WAITLISTED
    assert course.enrollments.filter(status=Enrollment.Status.CONFIRMED).count() == 20
