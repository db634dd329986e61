from __future__ import annotations

import pytest

from tests.factories import EnrollmentFactory


@pytest.fixture
def enrollment(course):
    """A confirmed participant of the default course: 3 sessions of 4 h, 720 minutes."""
    return EnrollmentFactory(course=course)


@pytest.fixture
def sessions(course):
    return list(course.sessions.order_by("date", "start"))
