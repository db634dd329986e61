"""The one exception of the enrollment app, below every module that raises it."""

from __future__ import annotations


class EnrollmentError(Exception):
    """An enrolment change that the rules refuse, with a message for the user."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)
