from django.urls import path

from attendance import check_in_views, views

app_name = "attendance"

urlpatterns = [
    path("courses/<slug:slug>/my-attendance/", views.my_attendance, name="my"),
    path("segreteria/courses/<slug:slug>/attendance/", views.SummaryView.as_view(), name="summary"),
    path(
        "segreteria/courses/<slug:slug>/attendance/export.csv",
        views.ExportCsvView.as_view(),
        name="export_csv",
    ),
    path(
        "segreteria/courses/<slug:slug>/attendance/export.xlsx",
        views.ExportXlsxView.as_view(),
        name="export_xlsx",
    ),
    path(
        "segreteria/courses/<slug:slug>/attendance/import/",
        views.ImportView.as_view(),
        name="import",
    ),
    path(
        "segreteria/courses/<slug:slug>/check-in/",
        check_in_views.CheckInPageView.as_view(),
        name="check_in",
    ),
    path(
        "segreteria/sessions/<int:pk>/check-in/scan/",
        check_in_views.ScanView.as_view(),
        name="check_in_scan",
    ),
    path(
        "segreteria/sessions/<int:pk>/check-in/inside/",
        check_in_views.InsideView.as_view(),
        name="check_in_inside",
    ),
    path(
        "segreteria/sessions/<int:pk>/check-in/manual/",
        check_in_views.ManualCheckInView.as_view(),
        name="check_in_manual",
    ),
    path(
        "segreteria/sessions/<int:pk>/check-in/confirm/",
        check_in_views.ConfirmExitView.as_view(),
        name="check_in_confirm",
    ),
    path("segreteria/sessions/<int:pk>/register/", views.RegisterView.as_view(), name="register"),
    path(
        "segreteria/sessions/<int:pk>/sign-in-sheet.pdf",
        views.SignInSheetView.as_view(),
        name="sign_in_sheet",
    ),
    path(
        "segreteria/enrollments/<int:pk>/attendance-history/",
        views.HistoryView.as_view(),
        name="history",
    ),
]
