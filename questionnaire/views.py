from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.exports import csv_response
from core.permissions import secretariat_required
from courses.models import Course
from enrollment.selectors import get_confirmed_enrollment
from questionnaire.forms import QuestionFormSet, QuestionnaireForm, WindowForm, question_initial
from questionnaire.selectors import (
    get_participant_status,
    get_questionnaire,
    get_release,
    get_results,
    get_window,
    has_answers,
    is_window_frozen,
    list_export_rows,
    list_questions,
)
from questionnaire.services import (
    QuestionnaireError,
    get_or_create_questionnaire,
    replace_questions,
    submit_questionnaire,
    update_questionnaire_window,
)


@login_required
@require_http_methods(["GET", "POST"])
def fill(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    enrollment = get_confirmed_enrollment(user_id=request.user.pk, course=course)
    if enrollment is None:
        return render(request, "questionnaire/not_participant.html", {"course": course}, status=403)
    status = get_participant_status(course=course, enrollment=enrollment)
    if not status.is_open:
        return render(
            request, "questionnaire/unavailable.html", {"course": course, "status": status}
        )
    # Reading shows the default questions without writing; a submission creates them first.
    questionnaire = (
        get_or_create_questionnaire(course=course)
        if request.method == "POST"
        else get_questionnaire(course)
    )
    questions = list_questions(questionnaire)
    form = QuestionnaireForm(request.POST or None, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            submit_questionnaire(enrollment=enrollment, answers=form.answers())
        except QuestionnaireError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Grazie: il questionario è stato inviato."))
            return redirect("questionnaire:fill", slug=course.slug)
    return render(request, "questionnaire/fill.html", {"course": course, "form": form})


@secretariat_required("questionnaire.view_results")
@require_GET
def results(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    data = get_results(course)
    return render(
        request,
        "questionnaire/results.html",
        {
            "course": course,
            "results": data,
            "window": get_window(data.questionnaire),
            "can_edit": request.user.has_perm("questionnaire.change_question"),
        },
    )


@secretariat_required("questionnaire.view_results")
@require_GET
def export_csv(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    questionnaire = get_questionnaire(course)
    release = get_release(questionnaire)
    if not release.released:
        # Below the minimum or before closing, a file would show what the page withholds.
        messages.error(
            request,
            _(
                "Esportazione non disponibile: le risposte si esportano solo quando il "
                "questionario è chiuso e sono almeno %(minimum)s, come indicato qui sotto."
            )
            % {"minimum": release.minimum},
        )
        return redirect("questionnaire:results", slug=course.slug)
    header, rows = list_export_rows(questionnaire)
    filename = f"questionario-{course.file_stem}-{timezone.localdate():%Y%m%d}.csv"
    return csv_response(filename, header, rows)


@secretariat_required("questionnaire.change_question")
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    questionnaire = (
        get_or_create_questionnaire(course=course)
        if request.method == "POST"
        else get_questionnaire(course)
    )
    questions = list_questions(questionnaire)
    locked = has_answers(questionnaire)
    action = request.POST.get("action") if request.method == "POST" else None
    window_form = WindowForm(
        request.POST if action == "window" else None,
        initial={"opens_at": questionnaire.opens_at, "closes_at": questionnaire.closes_at},
    )
    formset = QuestionFormSet(
        request.POST if action == "questions" else None,
        initial=question_initial(questions),
        prefix="questions",
    )
    if action == "window" and window_form.is_valid():
        try:
            update_questionnaire_window(questionnaire=questionnaire, **window_form.cleaned_data)
        except QuestionnaireError as exc:
            window_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Date del questionario salvate."))
            return redirect("questionnaire:edit", slug=course.slug)
    elif action == "questions" and formset.is_valid():
        try:
            replace_questions(questionnaire=questionnaire, questions=formset.questions())
        except QuestionnaireError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Domande del questionario salvate."))
            return redirect("questionnaire:edit", slug=course.slug)
    return render(
        request,
        "questionnaire/edit.html",
        {
            "course": course,
            "questionnaire": questionnaire,
            "questions": questions,
            "locked": locked,
            "formset": formset,
            "window_form": window_form,
            "window": get_window(questionnaire),
            "window_frozen": is_window_frozen(questionnaire),
        },
    )
