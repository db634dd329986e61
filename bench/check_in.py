"""Benchmark: the morning rush at the door, QR check-in on PostgreSQL.

A course with N confirmed participants and one session. Every participant's real code is
scanned on entry and on exit through the production service (attendance.scans.record_qr_scan:
token check, session lock, append-only scan, minutes recomputed and written with their audit
row), first from one device, then from several devices at once (threads, each with its own
database connection: the session lock serialises them). Prints the time per scan (median, 95th
percentile) and the scans per second, and checks that every participant ends with the minutes
of their interval.

    .venv/bin/python bench/check_in.py [--people 70] [--devices 3]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust). It uses its own database
(corsipa_bench_check_in, BENCH_DB chooses another), dropped and created at each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = os.environ.get("BENCH_DB", "corsipa_bench_check_in")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def recreate_database() -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=70)
    parser.add_argument("--devices", type=int, default=3)
    args = parser.parse_args()

    recreate_database()
    import django

    django.setup()
    import time_machine
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from attendance.models import Attendance, AttendanceChange, Scan
    from attendance.scans import record_qr_scan
    from enrollment.tokens import make_check_in_token
    from tests.factories import (
        CourseFactory,
        EnrollmentFactory,
        SecretariatFactory,
        SessionFactory,
    )

    call_command("migrate", "--noinput", verbosity=0)
    rome = ZoneInfo(settings.TIME_ZONE)
    day = dt.date(2031, 3, 12)
    # The server's clock: that evening, so every scan of the day is in the past.
    traveller = time_machine.travel(dt.datetime(2031, 3, 12, 20, tzinfo=rome), tick=True)
    traveller.start()

    def run(label: str, devices: int, staff: object) -> None:
        course = CourseFactory(sessions=0, enrollment_deadline=day - dt.timedelta(days=10))
        session = SessionFactory(course=course, date=day, start=dt.time(9), end=dt.time(13))
        people = [EnrollmentFactory(course=course) for _ in range(args.people)]
        tokens = [make_check_in_token(person) for person in people]
        connection.close()
        durations: list[float] = []
        lock = threading.Lock()

        def scan_all(kind: str, base: dt.datetime, device: int) -> None:
            mine: list[float] = []
            for i in range(device, len(tokens), devices):
                started = time.perf_counter()
                record_qr_scan(
                    session=session,
                    token=tokens[i],
                    kind=kind,
                    nonce=uuid.uuid4(),
                    scanned_at=base + dt.timedelta(milliseconds=500 * i),
                    scanned_by=staff,
                )
                mine.append(time.perf_counter() - started)
            connection.close()
            with lock:
                durations.extend(mine)

        wall = 0.0
        for kind, base in (
            ("entry", dt.datetime(2031, 3, 12, 8, 50, tzinfo=rome)),
            ("exit", dt.datetime(2031, 3, 12, 12, 50, tzinfo=rome)),
        ):
            threads = [
                threading.Thread(target=scan_all, args=(kind, base, d)) for d in range(devices)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall += time.perf_counter() - started
        ms = sorted(d * 1000 for d in durations)
        p95 = ms[max(0, round(len(ms) * 0.95) - 1)]
        minutes = sorted(
            Attendance.objects.filter(session=session).values_list("minutes", flat=True)
        )
        # Entries from 08:50 are clamped to 09:00; the i-th exit is at 12:50 + i/2 seconds.
        expected = sorted(230 + (500 * i) // 60_000 for i in range(args.people))
        ok = (
            Scan.objects.filter(session=session).count() == 2 * args.people
            and minutes == expected
            and AttendanceChange.objects.filter(attendance__session=session).count() == args.people
        )
        print(
            f"{label}: {len(ms)} scans ({args.people} entries + {args.people} exits) "
            f"in {wall:.2f} s = {len(ms) / wall:.0f} scans/s; per scan median "
            f"{statistics.median(ms):.1f} ms, p95 {p95:.1f} ms; "
            f"minutes and audit rows {'correct' if ok else 'WRONG'}"
        )
        if not ok:
            sys.exit(1)

    staff = SecretariatFactory()
    run("1 device", 1, staff)
    run(f"{args.devices} devices at once", args.devices, staff)
    traveller.stop()


if __name__ == "__main__":
    main()
