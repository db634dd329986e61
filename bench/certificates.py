"""Benchmark: render and sign certificates (WeasyPrint PDF/A + CAdES B-B), no database.

Runs the production code path (certificates.services.render_and_sign: template, QR code,
WeasyPrint with the cached fonts, then the cached file signer) and prints:

1. one certificate, warm (renderer and signer already loaded), in ms;
2. a batch of 1,000 with a pool of 2 worker processes, wall-clock, pool start included;
3. that every envelope verifies (certificates.signing.verify_p7m against the CA), plus a
   sample checked with the openssl command line.

    .venv/bin/python bench/certificates.py [--batch 1000] [--workers 2] [--warm 30]

Targets on the 2-core development machine: under 100 ms per certificate warm, 1,000 in under
60 s, every one verifying. The signing key is a throw-away development PKI in a temporary
directory; nothing is written to the database or to var/.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The embedded default (generated SECRET_KEY, no database needed): a development run.
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.utils import translation  # noqa: E402

from certificates.formatting import (  # noqa: E402
    format_hours,
    group_code,
    new_verification_code,
)
from certificates.pdf import CertificateContent  # noqa: E402
from certificates.pki import ensure_dev_pki  # noqa: E402
from certificates.seal import set_signer  # noqa: E402
from certificates.services import credits_text, make_serial, render_and_sign  # noqa: E402
from certificates.signing import verify_p7m  # noqa: E402
from core.formatting import format_dates, long_date  # noqa: E402

FIRST = ["Mario", "Giulia", "Luca", "Anna", "Maria Grazia", "Francesco", "Chiara", "Niccolò"]
LAST = ["Rossi", "Bianchi", "Verdi", "Neri", "Esposito-Brambilla", "D'Angelo", "Colombo", "Fò"]


def content(i: int) -> CertificateContent:
    """A realistic certificate, different for every i (name, hours, serial, code)."""
    import datetime as dt

    code = new_verification_code()
    attended = 576 + (i * 7) % 145
    with translation.override("it"):
        return CertificateContent(
            language="it",
            organiser="Città Metropolitana di Milano",
            provider="SDA Bocconi School of Management",
            course_type="Corso",
            course_title=(
                "La gestione strategica dei servizi di welfare: collaborazione tra enti, "
                "programmazione e valutazione"
            ),
            course_code="C5092Z/1",
            venue="Città Metropolitana di Milano, Viale Piceno, 60, Milano",
            dates_text=format_dates(
                [dt.date(2026, 3, 19), dt.date(2026, 3, 26), dt.date(2026, 4, 2)]
            ),
            session_count=3,
            holder_name=f"{FIRST[i % len(FIRST)]} {LAST[(i // 3) % len(LAST)]}",
            codice_fiscale="RSSMRA80A01F205X",
            hours_text=format_hours(attended, 720),
            threshold_percent=80,
            credits_text=credits_text(fcoas_awarded=i % 2 == 0, fcoas_credits=9),
            scientific_lead=(
                "Susanna Galli, Responsabile Servizio welfare, terzo Settore e pari opportunità"
            ),
            teachers=["Giovanni Fosti", "Elisabetta Perobelli"],
            place="Milano",
            issue_date_text=long_date(dt.date(2026, 4, 3)),
            serial=make_serial(course_code="C5092Z/1", year=2026, enrollment_id=i + 1, version=1),
            verification_code=group_code(code),
            verify_url=f"https://corsi.example.org/verify/{code}/",
        )


def _init_worker(pki_dir: str) -> None:
    """Load the seal once per process and warm the renderer (fonts, stylesheet)."""
    pki = ensure_dev_pki(Path(pki_dir))
    set_signer(pki.signer(), pki.ca_pem_path.read_bytes())
    render_and_sign(content(0))


def _work(i: int) -> bytes:
    return render_and_sign(content(i))


def _openssl_ok(p7m: bytes, ca_pem: Path, workdir: Path) -> bool:
    envelope = workdir / "x.pdf.p7m"
    envelope.write_bytes(p7m)
    proc = subprocess.run(
        [
            "openssl", "cms", "-verify", "-cades", "-inform", "DER", "-binary",
            "-CAfile", str(ca_pem), "-in", str(envelope), "-out", str(workdir / "x.pdf"),
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    return proc.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warm", type=int, default=30, help="sequential warm iterations")
    parser.add_argument("--openssl-sample", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-certs-") as tmp:
        pki_dir = Path(tmp) / "pki"
        pki = ensure_dev_pki(pki_dir)
        ca_pem = pki.ca_pem_path.read_bytes()

        # 1. Warm, sequential, in this process.
        started = time.perf_counter()
        _init_worker(str(pki_dir))
        first = time.perf_counter() - started
        timings = []
        for i in range(args.warm):
            t0 = time.perf_counter()
            _work(i)
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        print(f"first certificate (cold: fonts, key): {first * 1000:.0f} ms")
        median, p90 = statistics.median(timings), timings[int(len(timings) * 0.9) - 1]
        print(
            f"one certificate, warm ({args.warm} runs): median {median:.1f} ms, "
            f"min {timings[0]:.1f} ms, p90 {p90:.1f} ms"
        )

        # 2. The batch, with a pool of worker processes (start and warm-up included).
        # fork, like Celery's prefork pool; spawn where fork does not exist.
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        t0 = time.perf_counter()
        with ctx.Pool(args.workers, initializer=_init_worker, initargs=(str(pki_dir),)) as pool:
            envelopes = pool.map(_work, range(args.batch), chunksize=10)
        batch = time.perf_counter() - t0
        print(
            f"batch of {args.batch} with {args.workers} worker processes: {batch:.1f} s "
            f"({batch * 1000 / args.batch:.1f} ms per certificate, pool start included)"
        )

        # 3. Every envelope verifies.
        t0 = time.perf_counter()
        failures = [
            i
            for i, p7m in enumerate(envelopes)
            if not (result := verify_p7m(p7m, trusted_ca_pem=ca_pem)).valid
            or not (result.content or b"").startswith(b"%PDF-")
        ]
        print(
            f"verify_p7m: {args.batch - len(failures)}/{args.batch} valid "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        sample = envelopes[:: max(1, args.batch // max(args.openssl_sample, 1))][
            : args.openssl_sample
        ]
        if shutil.which("openssl") and sample:
            ok = sum(_openssl_ok(p7m, pki.ca_pem_path, Path(tmp)) for p7m in sample)
            print(f"openssl cms -verify -cades: {ok}/{len(sample)} of a sample valid")
            failures += [-1] * (len(sample) - ok)
        sizes = [len(p7m) for p7m in envelopes]
        print(f"envelope size: median {statistics.median(sizes) / 1024:.1f} KiB")
        if failures:
            sys.exit(f"{len(failures)} envelope(s) failed verification")


if __name__ == "__main__":
    main()
