from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from courses.models import Course


def course_to_ics(course: Course) -> bytes:
    """An iCalendar file with one event per session of the course."""
    cal = Calendar()
    cal.add("prodid", "-//Corsi PA//corsi-pa//IT")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{course.code} {course.title}")
    url = f"{settings.SITE_URL}{course.get_absolute_url()}"
    for index, session in enumerate(course.sessions.order_by("date", "start"), start=1):
        event = Event()
        event.add("uid", f"session-{session.pk}@corsi-pa")
        event.add("dtstamp", timezone.now())
        event.add("dtstart", session.starts_at())
        event.add("dtend", session.ends_at())
        title = f"{course.title} ({index}/{course.sessions.count()})"
        event.add("summary", title)
        event.add("location", course.venue)
        event.add("description", f"{course.code} – {session.title}\n{url}".strip())
        event.add("url", url)
        cal.add_component(event)
    return cal.to_ical()
