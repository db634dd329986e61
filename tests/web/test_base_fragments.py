"""The menu and the footer of base.html are rendered once per language and kind of visitor."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key

from tests.factories import ParticipantFactory, SecretariatFactory

pytestmark = pytest.mark.django_db

PAGE = "/my/enrollments/"


def test_menu_and_footer_are_kept_after_the_first_page(client):
    client.force_login(ParticipantFactory())
    client.get(PAGE)
    fragments = caches["fragments"]
    menu = make_template_fragment_key("base_menu", ["it", (True, False, False, True)])
    assert "Le mie iscrizioni" in fragments.get(menu)
    assert "Note legali" in fragments.get(make_template_fragment_key("base_footer", ["it"]))


def test_each_kind_of_visitor_gets_its_own_menu(client, settings):
    settings.STAFF_2FA_REQUIRED = False
    # the secretariat's menu is kept first...
    client.force_login(SecretariatFactory())
    assert ">Segreteria<" in client.get(PAGE).content.decode()
    # ...and a participant, then an anonymous visitor, still get only theirs
    client.force_login(ParticipantFactory())
    page = client.get(PAGE).content.decode()
    assert ">Le mie iscrizioni<" in page
    assert ">Segreteria<" not in page
    client.logout()
    page = client.get("/").content.decode()
    assert ">Registrati<" in page
    assert ">Le mie iscrizioni<" not in page


def test_each_language_gets_its_own_menu_and_footer(client):
    client.force_login(ParticipantFactory())
    assert "Note legali" in client.get(PAGE).content.decode()
    client.get("/lang/en/")
    page = client.get(PAGE).content.decode()
    assert ">My enrolments<" in page
    assert "Legal notes" in page
    assert "Note legali" not in page
