"""Signals that let upper layers react to changes in courses without courses importing them."""

from django.dispatch import Signal

# Sent by courses.services.update_session_times inside its transaction, after the session's new
# start and end are saved and while the session row is locked, with keyword arguments:
#   session     the Session, with its new times
#   old_start   its start before the change (datetime.time)
#   old_end     its end before the change (datetime.time)
#   changed_by  the user who made the change, or None
# Receivers run in the same transaction: an exception they raise undoes the change.
# attendance re-clamps the session's recorded minutes here.
session_times_changed = Signal()
