"""The participant's GDPR rights across apps: a copy of their data, and erasure.

This app sits above the others and composes them: each app exports its own section of a
person's data (`<app>/personal_data.py`) and its services keep their own rules.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import personal_data as accounts_data
from accounts.models import Profile, RetentionPolicy, User
from accounts.services import ANONYMISED_EMAIL_DOMAIN, anonymise_user
from attendance import personal_data as attendance_data
from certificates import personal_data as certificates_data
from courses.selectors import course_has_started
from enrollment import personal_data as enrollment_data
from enrollment.models import ACTIVE_STATUSES, Enrollment
from enrollment.services import EnrollmentError, cancel_enrollment
from questionnaire import personal_data as questionnaire_data

# Each app exports its own section and names its own rows; this module composes them.
_APPS = (accounts_data, enrollment_data, attendance_data, questionnaire_data, certificates_data)


def export_user_data(user: User) -> dict[str, Any]:
    """Everything the portal holds about one person, as JSON-ready data (art. 15 and 20)."""
    data: dict[str, Any] = {}
    for app in _APPS:
        data.update(app.export_personal_data(user))
    return data


@dataclass(frozen=True)
class _Identity:
    """What identified the person before erasure, to be found and replaced in free text."""

    email: str
    first_name: str
    last_name: str
    codice_fiscale: str


def _identity_of(user: User) -> _Identity:
    profile = Profile.objects.filter(user=user).first()
    return _Identity(
        email=user.email,
        first_name=user.first_name.strip(),
        last_name=user.last_name.strip(),
        codice_fiscale=profile.codice_fiscale if profile else "",
    )


def _replacer(
    replacements: dict[str, str], *, whole_words: bool, fallback: str
) -> Callable[[str], str]:
    """A function replacing each key, in any case, by its value; longest keys first."""
    keys = sorted((key for key in replacements if key), key=len, reverse=True)
    if not keys:
        return lambda text: text
    by_key = {key.casefold(): value for key, value in replacements.items()}
    alternatives = "|".join(re.escape(key) for key in keys)
    pattern = re.compile(rf"\b(?:{alternatives})\b" if whole_words else alternatives, re.I)
    # The fallback covers a match whose case-folding differs from its key's (rare letters).
    return lambda text: pattern.sub(
        lambda match: by_key.get(match.group(0).casefold(), fallback), text
    )


def _replace_in_change_message(message: str, replace: Callable[[str], str]) -> str:
    # The admin stores JSON with non-ASCII characters escaped: replace in the decoded strings.
    try:
        data = json.loads(message)
    except ValueError:
        return replace(message)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return replace(value)
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    return json.dumps(walk(data))


def _objects_about(user: User) -> list[models.Model]:
    """The rows whose admin representation shows the person (their str() includes the user)."""
    return [
        *accounts_data.rows_naming(user),
        *enrollment_data.rows_naming(user),
        *attendance_data.rows_naming(user),
        *questionnaire_data.rows_naming(user),
    ]


def _object_exists(entry: LogEntry) -> bool:
    # django-stubs leaves LogEntry.content_type untyped.
    content_type = cast("ContentType | None", entry.content_type)
    model = content_type.model_class() if content_type is not None else None
    return model is not None and model._default_manager.filter(pk=entry.object_id).exists()


def _scrub_admin_log(*, user: User, identity: _Identity) -> int:
    """Rewrite the admin's history entries that name the person, with the anonymised name.

    Entries about the person's own rows get those rows' current (anonymised) representation.
    The address and the codice fiscale are the person's alone and are replaced wherever they
    are quoted; a name may be a namesake's, so it is replaced only in entries about the
    person's rows or about rows that no longer exist. The entries themselves stay: who changed
    what, and when, is the secretariat's history.
    """
    user = User.objects.get(pk=user.pk)
    label = str(user)
    about: dict[tuple[int | None, str], models.Model] = {}
    for row in _objects_about(user):
        about[(ContentType.objects.get_for_model(row).pk, str(row.pk))] = row
    # The account's representation at the time of each entry: a name or an address since
    # changed.
    former = set(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
        ).values_list("object_repr", flat=True)
    )
    former_addresses = {text for text in former if "@" in text}
    unique = {
        identity.codice_fiscale: label,
        **dict.fromkeys((*former_addresses, identity.email), user.email),
    }
    full_names = {
        **unique,
        **dict.fromkeys(
            (
                *(former - former_addresses),
                f"{identity.first_name} {identity.last_name}",
                f"{identity.last_name} {identity.first_name}",
            ),
            label,
        ),
    }
    replace_unique = _replacer(_clean(unique), whole_words=False, fallback=label)
    replace_full_names = _replacer(_clean(full_names), whole_words=False, fallback=label)
    replace_names = _replacer(
        _clean({identity.first_name: label, identity.last_name: label}),
        whole_words=True,
        fallback=label,
    )

    def replace_all(text: str) -> str:
        return replace_names(replace_full_names(text))

    candidates = Q()
    for text in _clean(full_names):
        escaped = json.dumps(text)[1:-1]  # as it appears inside the stored JSON
        candidates |= Q(object_repr__icontains=text) | Q(change_message__icontains=escaped)
    for content_type_id, object_id in about:
        candidates |= Q(content_type_id=content_type_id, object_id=object_id)
    changed = 0
    replace: Callable[[str], str]
    for entry in (
        LogEntry.objects.select_for_update(of=("self",))
        .select_related("content_type")
        .filter(candidates)
    ):
        obj = about.get((entry.content_type_id, entry.object_id))
        if obj is not None:
            replace = replace_all
        elif _object_exists(entry):
            replace = replace_unique
        else:
            replace = replace_full_names
        object_repr = str(obj)[:200] if obj is not None else replace(entry.object_repr)
        change_message = _replace_in_change_message(entry.change_message, replace)
        if (object_repr, change_message) != (entry.object_repr, entry.change_message):
            entry.object_repr, entry.change_message = object_repr, change_message
            entry.save(update_fields=["object_repr", "change_message"])
            changed += 1
    return changed


def _clean(replacements: dict[str, str]) -> dict[str, str]:
    return {
        key.strip(): value
        for key, value in replacements.items()
        if key.strip() and key.strip() != value
    }


def erase_participant(*, user: User) -> None:
    """Erasure (art. 17): free the person's seats in courses to come, then anonymise.

    An enrolment in a course that has started or ended is history and keeps its state: the
    person stays in its register, attendance grid, exports, certificate list and questionnaire
    counts, under the anonymised name. Issued certificates and attendance records are kept: the
    organiser must be able to prove the training (legal obligation and public task, art.
    17(3)(b)). Login records, sessions and the admin's history lose the person's identity.
    """
    identity = _identity_of(user)
    enrollments = (
        Enrollment.objects.active()
        .filter(user=user)
        .select_related("course")
        .prefetch_related("course__sessions")
    )
    for enrollment in enrollments:
        if course_has_started(enrollment.course):
            continue
        try:
            # The service gives the freed seat to the next in line.
            with translation.override(settings.LANGUAGE_CODE):  # the history's language
                reason = gettext("Cancellazione dei dati personali dell'iscritto.")
            cancel_enrollment(enrollment=enrollment, by_secretariat=True, reason=reason)
        except EnrollmentError:
            continue
    with transaction.atomic():
        anonymise_user(user=user)
        _scrub_admin_log(user=user, identity=identity)


def anonymise_inactive_accounts(*, now: dt.datetime | None = None) -> int:
    """Apply the secretariat's retention period to participant accounts; returns how many."""
    policy = RetentionPolicy.objects.first()
    if policy is None or not policy.inactive_days:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=policy.inactive_days)
    # One enrolment that is both active and in a course held since the cutoff: a subquery, since
    # exclude() over a multi-valued relation may match the two conditions on different rows.
    busy = Enrollment.objects.filter(
        user=OuterRef("pk"),
        status__in=ACTIVE_STATUSES,
        course__sessions__date__gte=timezone.localdate(cutoff),
    )
    stale = (
        # Participants only: whoever holds a secretariat permission (staff flag or not) is not.
        User.objects.filter(
            is_staff=False, is_superuser=False, groups__isnull=True, user_permissions__isnull=True
        )
        .exclude(email__endswith=f"@{ANONYMISED_EMAIL_DOMAIN}")
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .exclude(Exists(busy))
    )
    count = 0
    for user in stale:
        erase_participant(user=user)
        count += 1
    return count
