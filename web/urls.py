from django.urls import path

from web import legal_views, views

app_name = "web"

urlpatterns = [
    # The secretariat's home links to every app's pages for each course: composed here.
    path("segreteria/", views.secretariat_home, name="secretariat"),
    # The pages every public administration's site must have, linked from the footer.
    path("accessibilita/", legal_views.accessibility, name="accessibility"),
    path("privacy/", legal_views.privacy, name="privacy"),
    path("note-legali/", legal_views.legal_notes, name="legal_notes"),
    path("contatti/", legal_views.contacts, name="contacts"),
]
