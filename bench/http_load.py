"""Page load: 50 concurrent clients on the catalogue, a course page and a participant page;
one client on the secretariat's register and attendance grid of a 70-participant course.

Serves the portal with gunicorn on PostgreSQL and Redis (the same setup as enroll_burst.py),
then for each page runs C concurrent clients for a fixed time and prints requests per second,
p50/p95/p99 latency and the number of errors; the secretariat pages get one client at a time,
whose median latency is the server time of one page. Ends with the issue's table of targets.

    .venv/bin/python bench/http_load.py [--clients 50] [--seconds 10] [--workers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import enroll_burst as base

HOST, PORT = base.HOST, base.PORT


async def client(path: str, cookie: str, deadline: float, out: list[tuple[float, int]]) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        + (f"Cookie: sessionid={cookie}\r\n" if cookie else "")
        + "Connection: close\r\n\r\n"
    ).encode()
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(HOST, PORT)
            writer.write(request)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            await reader.read()
            writer.close()
        except (OSError, IndexError, ValueError):
            status = 0
        out.append((time.perf_counter() - t0, status))


async def load(path: str, cookies: list[str], clients: int, seconds: float) -> list:
    out: list[tuple[float, int]] = []
    deadline = time.perf_counter() + seconds
    await asyncio.gather(
        *(
            client(path, cookies[i % len(cookies)] if cookies else "", deadline, out)
            for i in range(clients)
        )
    )
    return out


def report(name: str, results: list, seconds: float) -> dict[str, float]:
    latencies = sorted(r[0] for r in results)
    errors = sum(1 for r in results if r[1] != 200)
    p50 = statistics.median(latencies) * 1000
    p95 = base.percentile(latencies, 95) * 1000
    p99 = base.percentile(latencies, 99) * 1000
    rate = len(results) / seconds
    print(
        f"{name:32s} {rate:7.0f} req/s  p50 {p50:6.1f} ms"
        f"  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  errors {errors}"
    )
    return {"rate": rate, "p50": p50, "p99": p99, "errors": errors}


# A secretariat member whose session passed the second factor, and the LAB-WC/1 course (70
# seats) with 70 confirmed participants, each with attendance at the first session.
SECRETARIAT = """
import json
from importlib import import_module
from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import User
from attendance.models import Attendance, Source
from courses.models import Course
from enrollment.models import Enrollment
staff = User.objects.get(email="segreteria@example.org")
device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
if device is None:
    device = TOTPDevice.objects.create(user=staff, name="bench", confirmed=True)
s = import_module(settings.SESSION_ENGINE).SessionStore()
s["_auth_user_id"] = str(staff.pk)
s["_auth_user_backend"] = "accounts.backends.CachedModelBackend"
s["_auth_user_hash"] = staff.get_session_auth_hash()
s["otp_device_id"] = device.persistent_id
s.create()
course = Course.objects.get(code="LAB-WC/1")
sessions = list(course.sessions.order_by("date", "start"))
quotas = {q.organisation_type: q.seats for q in course.quotas.all()}
if not Enrollment.objects.filter(course=course).exists():
    people = User.objects.filter(email__startswith="participant-").select_related("profile")
    rows = []
    for user in people.order_by("id"):
        key = user.profile.organisation_type
        if quotas.get(key, 0) > 0:
            quotas[key] -= 1
            rows.append(Enrollment(user=user, course=course, status="confirmed", quota_key=key,
                                   confirmed_at=timezone.now()))
        if len(rows) == 70:
            break
    Enrollment.objects.bulk_create(rows)
    Attendance.objects.bulk_create(
        Attendance(enrollment=e, session=sessions[0], minutes=sessions[0].minutes,
                   source=Source.REGISTER, recorded_by=staff, recorded_at=timezone.now())
        for e in Enrollment.objects.filter(course=course)
    )
print(json.dumps({
    "key": s.session_key,
    "participants": Enrollment.objects.filter(course=course, status="confirmed").count(),
    "register": f"/segreteria/sessions/{sessions[0].pk}/register/",
    "grid": f"/segreteria/courses/{course.slug}/attendance/",
}))
"""


def targets(measured: dict[str, dict[str, float]], participants: int) -> list[tuple]:
    """The issue's table, from this run's measures."""
    course = measured["course page (participant)"]
    mine = measured["my enrollments (participant)"]
    register = measured["register (secretariat)"]
    grid = measured["attendance grid (secretariat)"]
    return [
        (
            "course page, signed-in participant, 50 clients",
            f"{course['rate']:.0f} req/s, p99 {course['p99']:.0f} ms, {course['errors']} errors",
            ">= 400 req/s, p99 < 250 ms",
            course["rate"] >= 400 and course["p99"] < 250 and not course["errors"],
        ),
        (
            '"Le mie iscrizioni", 50 clients',
            f"{mine['rate']:.0f} req/s, p99 {mine['p99']:.0f} ms, {mine['errors']} errors",
            ">= 600 req/s",
            mine["rate"] >= 600 and not mine["errors"],
        ),
        (
            f"secretariat register, {participants} participants",
            f"{register['p50']:.0f} ms server time (1 client, median)",
            "< 150 ms",
            register["p50"] < 150 and not register["errors"],
        ),
        (
            f"secretariat attendance grid, {participants} participants",
            f"{grid['p50']:.0f} ms server time (1 client, median)",
            "< 150 ms",
            grid["p50"] < 150 and not grid["errors"],
        ),
    ]


def run_wrk(path: str, cookie: str, clients: int, seconds: float) -> str:
    """The same measurement with wrk (C), whose client costs far less CPU than Python's."""
    command = ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run(
        [*command, f"http://{HOST}:{PORT}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
    pct = {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if line.strip().startswith(("50%", "90%", "99%"))
    }
    errors = [
        line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line
    ]
    return (
        f"{float(rate):7.0f} req/s  p50 {pct.get('50%')}  p90 {pct.get('90%')}  "
        f"p99 {pct.get('99%')}  {'; '.join(errors) or 'no errors'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--client", choices=["python", "wrk"], default="wrk" if shutil.which("wrk") else "python"
    )
    args = parser.parse_args()
    base.prepare_database(200)
    keys = json.loads(base.shell(base.SETUP, "50"))
    staff = json.loads(base.shell(SECRETARIAT))
    server = subprocess.Popen(
        [
            str(base.ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi:application",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            str(args.workers),
            "--backlog",
            "4096",
            "--log-level",
            "warning",
        ],
        cwd=base.ROOT,
        env=base.ENV,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        course = "/courses/c5092z-1-gestione-delle-interdipendenze-e-welfare-di-iniziativa/"
        pages = [
            ("catalogue (anonymous)", "/", [], args.clients),
            ("course page (anonymous)", course, [], args.clients),
            ("course page (participant)", course, keys, args.clients),
            ("my enrollments (participant)", "/my/enrollments/", keys, args.clients),
            ("register (secretariat)", staff["register"], [staff["key"]], 1),
            ("attendance grid (secretariat)", staff["grid"], [staff["key"]], 1),
        ]
        print(f"{args.clients} clients, {args.seconds:.0f} s per page, {args.workers} workers")
        measured = {}
        for name, path, cookies, clients in pages:
            asyncio.run(load(path, cookies, 4, 1))  # warm-up
            if args.client == "wrk":
                cookie = cookies[0] if cookies else ""
                print(f"{name:32s} {run_wrk(path, cookie, clients, args.seconds)}")
            else:
                results = asyncio.run(load(path, cookies, clients, args.seconds))
                measured[name] = report(name, results, args.seconds)
        if measured:
            print()
            print(f"bench/http_load.py, {os.cpu_count()} cores, {args.workers} workers")
            base.print_table(targets(measured, staff["participants"]))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        subprocess.run(["redis-cli", "-n", base.REDIS_DB, "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
