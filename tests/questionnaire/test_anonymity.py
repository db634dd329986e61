from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps
from django.db import models

from questionnaire.models import Answer, PendingResponse, ResponseSet

PEOPLE = {"accounts.user", "accounts.profile", "enrollment.enrollment"}


def _reachable(start: type[models.Model]) -> set[str]:
    """Every model reachable from `start` by following forward FKs, one-to-ones and M2Ms."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        model = stack.pop()
        label = model._meta.label_lower
        if label in seen:
            continue
        seen.add(label)
        for field in model._meta.get_fields():
            if (
                field.is_relation
                and field.concrete
                and field.related_model is not None
                or field.many_to_many
                and not field.auto_created
            ):
                stack.append(field.related_model)
    return seen


def test_no_database_path_from_an_answer_to_a_person():
    for model in (Answer, ResponseSet, PendingResponse):
        reachable = _reachable(model)
        assert "questionnaire.questionnaire" in reachable  # the walk does follow relations
        assert not reachable & PEOPLE, f"{model.__name__} reaches {reachable & PEOPLE}"


def test_the_walk_would_notice_a_link_to_a_person():
    # Control: from the completion, which is linked to the enrolment on purpose.
    from questionnaire.models import Completion

    assert {"accounts.user", "enrollment.enrollment"} <= _reachable(Completion)


def test_answers_carry_no_timestamp_and_no_sequential_id():
    for model in (ResponseSet, Answer, PendingResponse):
        kinds = {type(f) for f in model._meta.concrete_fields}
        assert not kinds & {models.DateTimeField, models.DateField, models.TimeField}, model
        assert isinstance(model._meta.pk, models.UUIDField), model


def test_questionnaire_app_never_imports_certificates():
    root = Path(apps.get_app_config("questionnaire").path)
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "certificates" for n in names), path
