"""Profile one kind of request on the real path (WSGI handler, every middleware, PostgreSQL, Redis).

Runs in-process against the bench database that enroll_burst.py / http_load.py prepare, signs
in as seeded participants (or the secretariat) and prints the query count of one request and
the top lines of a cProfile of many.

    .venv/bin/python bench/profile_request.py enroll [--n 200]
    .venv/bin/python bench/profile_request.py get /my/enrollments/ [--n 200]
    .venv/bin/python bench/profile_request.py get register --as secretariat
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import enroll_burst as base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["enroll", "get"])
    parser.add_argument("path", nargs="?", default="")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--as", dest="who", choices=["participant", "secretariat"])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()

    os.environ.update({k: v for k, v in base.ENV.items() if k not in os.environ or k == "DEBUG"})
    sys.path.insert(0, str(base.ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    import json
    import subprocess

    keys = json.loads(
        subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + base.SETUP, str(args.n)],
            cwd=base.ROOT,
            env={**base.ENV, "PYTHONPATH": str(base.ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    if args.who == "secretariat":
        import http_load

        staff = json.loads(base.shell(http_load.SECRETARIAT))
        keys = [staff["key"]] * args.n
        args.path = staff.get(args.path, args.path)  # "register" or "grid" name those pages
    handler = WSGIHandler()
    factory = RequestFactory()
    token = "a" * 32

    def request(key: str):
        cookies = f"sessionid={key}; csrftoken={token}"
        if args.kind == "enroll":
            environ = factory.post(
                f"/courses/{base.SLUG}/enroll/",
                HTTP_COOKIE=cookies,
                HTTP_X_CSRFTOKEN=token,
                HTTP_REFERER=f"http://{base.HOST}/",
            ).environ
        else:
            environ = factory.get(args.path, HTTP_COOKIE=cookies).environ
        status = []
        body = b"".join(handler(environ, lambda s, h, *a: status.append(s)))
        return status[0], body

    # Warm up on the last key (imports, connections, templates), then count one request.
    request(keys[-1])
    with CaptureQueriesContext(connection) as queries:
        status, _body = request(keys[0])
    print(f"status {status}; {len(queries)} queries:")
    for q in queries.captured_queries:
        print("   ", q["sql"][:160])
    # Half the requests timed as they are, the other half under the profiler (which slows
    # Python code down but not the waits on PostgreSQL and Redis).
    plain, profiled = keys[1 : len(keys) // 2], keys[len(keys) // 2 : -1]
    t0 = time.perf_counter()
    for key in plain:
        request(key)
    elapsed = time.perf_counter() - t0
    print(f"{elapsed / max(1, len(plain)) * 1000:.2f} ms per request (in-process, one at a time)")
    profiler = cProfile.Profile()
    profiler.enable()
    for key in profiled:
        request(key)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
