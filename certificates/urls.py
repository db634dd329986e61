from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("certificates/", views.my_certificates, name="mine"),
    path("certificates/<uuid:token>/download/", views.download, name="download"),
    path("verify/", views.verify, name="verify"),
    # Before verify/<code>/, which would otherwise swallow it.
    path("verify/ca.pem", views.ca_pem, name="ca_pem"),
    path("verify/<str:code>/", views.verify_code, name="verify_code"),
    path("segreteria/courses/<slug:slug>/certificates/", views.course_certificates, name="course"),
    path(
        "segreteria/courses/<slug:slug>/credits.csv",
        views.credits_export,
        {"fmt": "csv"},
        name="credits_csv",
    ),
    path(
        "segreteria/courses/<slug:slug>/credits.xlsx",
        views.credits_export,
        {"fmt": "xlsx"},
        name="credits_xlsx",
    ),
    path(
        "segreteria/courses/<slug:slug>/certificates.zip",
        views.course_certificates_zip,
        name="course_zip",
    ),
]

urlpatterns += [
    path("certificates/libretto/", views.my_libretto, name="libretto"),
    path(
        "certificates/libretto/download.<str:fmt>",
        views.my_libretto_download,
        name="libretto_download",
    ),
    path("segreteria/libretto/", views.libretto_search, name="libretto_search"),
    path(
        "segreteria/libretto/<int:user_id>/",
        views.participant_libretto,
        name="libretto_participant",
    ),
    path(
        "segreteria/libretto/<int:user_id>/download.<str:fmt>",
        views.participant_libretto_download,
        name="libretto_participant_download",
    ),
    path(
        "segreteria/libretto/trienni/<int:start>/credits.csv",
        views.triennium_credits_export,
        {"fmt": "csv"},
        name="triennium_credits_csv",
    ),
    path(
        "segreteria/libretto/trienni/<int:start>/credits.xlsx",
        views.triennium_credits_export,
        {"fmt": "xlsx"},
        name="triennium_credits_xlsx",
    ),
]
