"""What the public pages show, composed from the apps below, each row loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from accounts.models import Profile, User
from attendance.selectors import AttendanceProgress, get_progress
from certificates.models import Certificate
from certificates.selectors import Eligibility, evaluate_eligibility, get_valid_certificate
from courses.models import Course, Session
from courses.selectors import get_course_end
from enrollment.models import Enrollment
from enrollment.selectors import EnrollmentPanel, get_enrollment_panel, get_user_enrollment
from questionnaire.selectors import ParticipantStatus, get_participant_status

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class ParticipantBoxes:
    """The course page's boxes for a confirmed participant (all None for anyone else)."""

    progress: AttendanceProgress | None = None
    questionnaire: ParticipantStatus | None = None
    certificate: Certificate | None = None
    eligibility: Eligibility | None = None
    # Sessions held (also) online that have a meeting link: confirmed participants only.
    meeting_sessions: tuple[Session, ...] = ()


@dataclass(frozen=True)
class CoursePageState:
    """Everything the course page says to one visitor."""

    panel: EnrollmentPanel
    boxes: ParticipantBoxes


def get_course_page_state(course: Course, user: User | AnonymousUser) -> CoursePageState:
    """Loads the visitor's enrolment and profile once and hands them to every box (each box
    used to be a template tag that loaded them again)."""
    enrollment = get_user_enrollment(course, user)
    profile = None
    if isinstance(user, User):
        profile = Profile.objects.filter(user=user).first()
        if profile is not None:
            profile.user = user  # already loaded: the profile's checks read the names on it
    return CoursePageState(
        panel=get_enrollment_panel(course, user, enrollment=enrollment, profile=profile),
        boxes=get_participant_boxes(course, user, enrollment=enrollment),
    )


def get_participant_boxes(
    course: Course, user: User | AnonymousUser, *, enrollment: Enrollment | None
) -> ParticipantBoxes:
    """Progress, questionnaire and certificate of the visitor's enrolment, each loaded once."""
    # Only a signed-in visitor has an enrolment; the isinstance check says so to mypy.
    if enrollment is None or not enrollment.is_confirmed or not isinstance(user, User):
        return ParticipantBoxes()
    # Reuse the page's course (prefetched sessions) and the visitor already loaded.
    enrollment.course = course
    enrollment.user = user
    progress = get_progress(enrollment)
    questionnaire = get_participant_status(course=course, enrollment=enrollment)
    certificate = get_valid_certificate(enrollment)
    eligibility = None
    if certificate is None:
        # The gate's own rule, on the rows this page already loaded.
        eligibility = evaluate_eligibility(
            enrollment=enrollment,
            progress=progress,
            questionnaire_completed=questionnaire.completion is not None,
            course_ends_at=get_course_end(course),
        )
    return ParticipantBoxes(
        progress=progress,
        questionnaire=questionnaire,
        certificate=certificate,
        eligibility=eligibility,
        meeting_sessions=tuple(
            session
            for session in course.sessions.all()
            if session.is_online and session.meeting_url
        ),
    )
