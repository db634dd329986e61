""" "Entra con SPID" in a real browser, through a real OpenID Connect provider (node-oidc-provider),
to an enrolment; then out again, at the provider too."""

from __future__ import annotations

import copy
import re

import pytest

from tests.e2e.support import UNAVAILABLE, describe_violations, label, run_axe
from tests.support.oidc_processes import (
    CLIENT_ID,
    CLIENT_SECRET,
    require_node_provider,
    run_node_provider,
)

if UNAVAILABLE:
    pytest.skip(UNAVAILABLE, allow_module_level=True)

from playwright.sync_api import expect

from accounts.models import OidcIdentity, User
from enrollment.models import Enrollment
from portal.demo_data import demo_codice_fiscale
from portal.settings import oidc_form_action
from tests.factories import CourseFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

CF = demo_codice_fiscale(9101, female=True)
PERSON = {
    "given_name": "Lucia",
    "family_name": "Ferri",
    "email": "lucia.ferri@comune.example.org",
    "fiscal_number": f"TINIT-{CF}",
}


@pytest.fixture
def node_provider(settings, live_server, tmp_path):
    require_node_provider()
    with run_node_provider(
        tmp_path, portal_url=live_server.url, accounts={"lucia": PERSON}
    ) as issuer:
        settings.OIDC_ISSUER = issuer
        settings.OIDC_CLIENT_ID = CLIENT_ID
        settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
        # As portal.settings does when OIDC_ISSUER is set: the logout form goes on to it.
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"] = oidc_form_action(issuer)
        settings.CONTENT_SECURITY_POLICY = policy
        yield issuer


def test_participant_signs_in_with_spid_enrols_and_signs_out_at_the_provider(
    e2e, page, node_provider
):
    # given an open course
    course = CourseFactory(title="Tutela dei minori e lavoro di rete")
    aside = page.get_by_role("complementary", name="Informazioni e iscrizione")
    # The provider's development pages ask for web fonts elsewhere: nothing leaves this machine.
    page.route(re.compile(r"^https://fonts\."), lambda route: route.abort())

    # when a visitor goes from the course to the login page, which passes axe,
    page.goto(course.get_absolute_url())
    aside.get_by_role("link", name="Accedi").click()
    spid = page.get_by_role("link", name="Entra con SPID")
    expect(spid).to_be_visible()
    expect(page.get_by_role("link", name="Entra con CIE")).to_be_visible()
    violations = run_axe(page)
    assert violations == [], describe_violations(violations)
    e2e.step("login-page")

    # and enters with SPID at the provider's own sign-in page
    spid.click()
    expect(page).to_have_url(re.compile("^" + re.escape(node_provider)))
    page.locator("input[name=login]").fill("lucia")
    page.locator("input[name=password]").fill("any-password")
    e2e.step("provider-sign-in")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()

    # then she is back, signed in, with her verified data on the profile, read-only
    expect(page).to_have_url(re.compile(r"/accounts/profile/"))
    expect(page.get_by_text("Accesso effettuato con la tua identità digitale")).to_be_visible()
    expect(page.get_by_label(label("Codice fiscale"))).to_have_value(CF)
    expect(page.get_by_label(label("Codice fiscale"))).to_be_disabled()
    expect(page.get_by_label(label("Nome"), exact=False).first).to_have_value("Lucia")
    user = User.objects.get(email="lucia.ferri@comune.example.org")
    assert OidcIdentity.objects.get(user=user).subject == "lucia"
    e2e.step("profile")

    # when she completes what SPID does not say and goes back to the course
    page.get_by_label(label("Professione")).select_option("assistente_sociale")
    page.get_by_label(label("Ente di appartenenza")).fill("Comune di Rho")
    page.get_by_label(label("Tipo di ente")).select_option("comune")
    page.get_by_role("button", name="Salva il profilo").click()
    expect(page).to_have_url(re.compile(re.escape(course.get_absolute_url()) + "$"))

    # then she can enrol
    aside.get_by_role("button", name="Iscriviti", exact=True).click()
    expect(aside).to_contain_text(re.compile(r"La tua iscrizione:\s*Confermata"))
    e2e.step("enrolled")
    assert Enrollment.objects.get(user=user, course=course).status == (Enrollment.Status.CONFIRMED)

    # when she signs out, the provider asks to end its session too, then sends her back
    page.get_by_role("button", name="Esci").click()
    expect(page).to_have_url(re.compile("^" + re.escape(node_provider) + "/session/end"))
    e2e.step("provider-logout")
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile(re.escape(e2e.base_url) + r"/(\?state=[\w-]+)?$"))
    expect(page.get_by_role("link", name="Accedi")).to_be_visible()
