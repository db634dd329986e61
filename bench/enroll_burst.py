"""Enrolment burst: N signed-in users POST to /courses/<slug>/enroll/ at the same moment.

Serves the portal with gunicorn on PostgreSQL (and Redis as the Celery broker), fires N
simultaneous enrolment attempts from N distinct users at a 20-seat course, and prints
requests per second, latency percentiles and the final counts.

    .venv/bin/python bench/enroll_burst.py --n 200 --n 1000

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379.
It uses its own database (corsipa_bench) and Redis db 14, and leaves nothing running;
BENCH_DB, BENCH_REDIS_DB and BENCH_PORT choose others.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Overridable so that several people can run the bench side by side on one machine.
DB_NAME = os.environ.get("BENCH_DB", "corsipa_bench")
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "14")
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
HOST = "127.0.0.1"
SLUG = "bench-burst"

ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "REDIS_URL": REDIS_URL,
    # DEBUG=1 by default, as the portal's safe defaults require it without production settings;
    # BENCH_DEBUG=0 measures production mode (manifest static files, 2FA for the secretariat).
    "DEBUG": os.environ.get("BENCH_DEBUG", "1"),
    "SECRET_KEY": "bench-" + "k" * 60,
    "ALLOWED_HOSTS": HOST,
    "SECURE_SSL_REDIRECT": "0",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "VAR_DIR": str(ROOT / "var" / "bench"),
}


def manage(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(result.stdout + result.stderr)
    return result.stdout


def prepare_database(users: int) -> None:
    import psycopg2

    conn = psycopg2.connect(host=HOST, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    conn.close()
    manage("migrate", "--noinput", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    manage("seed_demo", "--participants", str(users), "--password", "bench-password")


SETUP = """
import datetime as dt, json, sys
from importlib import import_module
from django.conf import settings
from django.utils import timezone
from accounts.models import User
from courses.models import Course, Session
from enrollment.models import Enrollment, EnrollmentChange, Notification
# The configured engine, as a real login would: cached_db keeps the session in Redis too.
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
n = int(sys.argv[1])
course, _ = Course.objects.update_or_create(code="BENCH/1", defaults=dict(
    slug="bench-burst", title="Corso per il benchmark", venue="Milano", capacity=20,
    requires_approval=False, enrollment_deadline=timezone.localdate() + dt.timedelta(days=30)))
if not course.sessions.exists():
    Session.objects.create(course=course, date=timezone.localdate() + dt.timedelta(days=40),
                           start=dt.time(9), end=dt.time(13))
# Raw deletes: the ORM would also look at tables of apps that refer to enrolments.
Notification.objects.filter(enrollment__course=course)._raw_delete("default")
EnrollmentChange.objects.filter(enrollment__course=course)._raw_delete("default")
Enrollment.objects.filter(course=course)._raw_delete("default")
keys = []
users = User.objects.filter(email__startswith="participant-").order_by("id")[:n]
for user in users:
    s = SessionStore()
    s["_auth_user_id"] = str(user.pk)
    s["_auth_user_backend"] = "accounts.backends.CachedModelBackend"
    s["_auth_user_hash"] = user.get_session_auth_hash()
    s.create()
    keys.append(s.session_key)
print(json.dumps(keys))
"""

COUNT = """
from enrollment.models import Enrollment
from django.db.models import Count
rows = Enrollment.objects.filter(course__code="BENCH/1")
rows = rows.values_list("status").annotate(n=Count("id"))
print(dict(rows))
"""


def shell(code: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code, *args],
        cwd=ROOT,
        env={**ENV, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(result.stderr)
    return result.stdout.strip().splitlines()[-1]


async def post(session_key: str, started: asyncio.Event) -> tuple[float, int]:
    token = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret
    request = (
        f"POST /courses/{SLUG}/enroll/ HTTP/1.1\r\nHost: {HOST}\r\n"
        f"Cookie: sessionid={session_key}; csrftoken={token}\r\n"
        f"X-CSRFToken: {token}\r\nReferer: http://{HOST}:{PORT}/\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode()
    await started.wait()
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(HOST, PORT)
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
        writer.close()
        status = int(status_line.split()[1])
    except (OSError, IndexError, ValueError):
        status = 0
    return time.perf_counter() - t0, status


async def burst(keys: list[str]) -> tuple[float, list[tuple[float, int]]]:
    started = asyncio.Event()
    tasks = [asyncio.create_task(post(k, started)) for k in keys]
    await asyncio.sleep(0.2)  # every coroutine is waiting on the same event
    t0 = time.perf_counter()
    started.set()
    results = await asyncio.gather(*tasks)
    return time.perf_counter() - t0, results


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


TARGET = "exactly 20 confirmed, 0 errors, every outcome decided, p99 < 1.5 s"


def print_table(rows: list[tuple[str, str, str, bool]]) -> None:
    """The issue's table: measure, what this run measured, the target, met or not."""
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    header = ("measure", "measured", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  met"
    print(line)
    print("-" * len(line))
    for name, measured, target, met in rows:
        cells = (name, measured, target)
        print(
            "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
            + ("  yes" if met else "  NO")
        )


def run(n: int, workers: int) -> tuple[str, str, str, bool]:
    keys = __import__("json").loads(shell(SETUP, str(n)))
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi:application",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            str(workers),
            "--backlog",
            "4096",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=ENV,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(workers * 2):  # warm every worker (imports, connections)
            urllib.request.urlopen(f"http://{HOST}:{PORT}/courses/{SLUG}/", timeout=5)
        elapsed, results = asyncio.run(burst(keys))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    latencies = [r[0] for r in results]
    statuses = [r[1] for r in results]
    counts = shell(COUNT)
    final = __import__("ast").literal_eval(counts)
    print(
        f"N={n} workers={workers}: {n / elapsed:.0f} req/s over {elapsed:.2f} s; latency "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    print(
        f"  answered {sum(1 for s in statuses if s)} / {n}; redirects (302) "
        f"{statuses.count(302)}; server errors {sum(1 for s in statuses if s >= 500)}; "
        f"failed connections {statuses.count(0)}; final enrolments {counts}"
    )
    p99 = percentile(latencies, 99)
    errors = sum(1 for s in statuses if s != 302)
    confirmed = final.get("confirmed", 0)
    decided = confirmed + final.get("waitlisted", 0)
    measured = (
        f"{n / elapsed:.0f} req/s, p99 {p99:.2f} s; {confirmed} confirmed, "
        f"{decided - confirmed} waitlisted, {n - decided} undecided, {errors} errors"
    )
    met = confirmed == 20 and errors == 0 and decided == n and p99 < 1.5
    return (f"{n:,} simultaneous enrolments, 20 seats", measured, TARGET, met)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, action="append", help="burst sizes (default 200 and 1000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    args = parser.parse_args()
    sizes = args.n or [200, 1000]
    prepare_database(max(sizes))
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], capture_output=True)
    rows = [run(n, args.workers) for n in sizes]
    print()
    print(f"bench/enroll_burst.py, {os.cpu_count()} cores, {args.workers} workers")
    print_table(rows)
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
