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
