"""Page load: 50 concurrent clients on the catalogue, a course page and a participant page.

Serves the portal with gunicorn on PostgreSQL and Redis (the same setup as enroll_burst.py),
then for each page runs C concurrent clients for a fixed time and prints requests per second,
p50/p95/p99 latency and the number of errors.

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


def report(name: str, results: list, seconds: float) -> None:
    latencies = sorted(r[0] for r in results)
    errors = sum(1 for r in results if r[1] != 200)
    p50 = statistics.median(latencies) * 1000
    p95 = base.percentile(latencies, 95) * 1000
    p99 = base.percentile(latencies, 99) * 1000
    print(
        f"{name:32s} {len(results) / seconds:7.0f} req/s  p50 {p50:6.1f} ms"
        f"  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  errors {errors}"
    )


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
            ("catalogue (anonymous)", "/", []),
            ("course page (anonymous)", course, []),
            ("course page (participant)", course, keys),
            ("my enrolments (participant)", "/my/enrollments/", keys),
        ]
        print(f"{args.clients} clients, {args.seconds:.0f} s per page, {args.workers} workers")
        for name, path, cookies in pages:
            asyncio.run(load(path, cookies, 4, 1))  # warm-up
            if args.client == "wrk":
                cookie = cookies[0] if cookies else ""
                print(f"{name:32s} {run_wrk(path, cookie, args.clients, args.seconds)}")
            else:
                results = asyncio.run(load(path, cookies, args.clients, args.seconds))
                report(name, results, args.seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        subprocess.run(["redis-cli", "-n", "14", "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
