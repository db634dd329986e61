from django.urls import path

from enrollment import views

app_name = "enrollment"

urlpatterns = [
    path("courses/<slug:slug>/enroll/", views.enroll, name="enroll"),
    path("courses/<slug:slug>/calendar.ics", views.calendar_ics, name="ics"),
    path("my/enrollments/", views.my_enrollments, name="mine"),
    path("my/enrollments/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("my/enrollments/<int:pk>/qr/", views.check_in_code, name="check_in_code"),
    path("my/enrollments/<int:pk>/qr.png", views.check_in_png, name="check_in_png"),
    path("enrollments/give-back/<str:token>/", views.give_back, name="give_back"),
    path("segreteria/courses/<slug:slug>/enrollments/", views.manage, name="manage"),
    path("segreteria/enrollments/<int:pk>/history/", views.history, name="history"),
    path(
        "segreteria/courses/<slug:slug>/enrollments/export.csv",
        views.export,
        {"fmt": "csv"},
        name="export_csv",
    ),
    path(
        "segreteria/courses/<slug:slug>/enrollments/export.xlsx",
        views.export,
        {"fmt": "xlsx"},
        name="export_xlsx",
    ),
]
