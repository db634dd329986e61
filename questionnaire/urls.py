from django.urls import path

from questionnaire import views

app_name = "questionnaire"

urlpatterns = [
    path("courses/<slug:slug>/questionnaire/", views.fill, name="fill"),
    path("segreteria/courses/<slug:slug>/questionnaire/", views.results, name="results"),
    path(
        "segreteria/courses/<slug:slug>/questionnaire/export.csv",
        views.export_csv,
        name="export_csv",
    ),
    path("segreteria/courses/<slug:slug>/questionnaire/edit/", views.edit, name="edit"),
]
