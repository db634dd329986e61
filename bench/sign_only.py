"""Benchmark: CAdES B-B signing alone (no PDF rendering, no database).

Signs a 60 KB random payload 1,000 times with one FileSigner loaded from a throw-away dev PKI
and prints milliseconds per signature. Run from the project root:

    python bench/sign_only.py [--iterations N] [--size BYTES]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Runnable as a plain script from a checkout: make the project packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certificates.pki import ensure_dev_pki
from certificates.signing import FileSigner, verify_p7m


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--iterations", type=int, default=1_000)
    args.add_argument("--size", type=int, default=60 * 1024, help="payload bytes")
    options = args.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        pki = ensure_dev_pki(Path(tmp))
        created = time.perf_counter()
        signer = FileSigner.from_pkcs12(pki.p12_path, pki.password)
        loaded = time.perf_counter()
        ca_pem = pki.ca_pem_path.read_bytes()

        payload = os.urandom(options.size)
        # Warm-up, and a sanity check that what we time is a valid envelope.
        result = verify_p7m(signer.sign(payload), trusted_ca_pem=ca_pem)
        if not result.valid or result.content != payload:
            raise SystemExit(f"signature does not verify: {result.errors}")

        timings = []
        for _ in range(options.iterations):
            t0 = time.perf_counter()
            signer.sign(payload)
            timings.append((time.perf_counter() - t0) * 1000)

    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    key = signer.certificate.public_key()
    print(f"key: {type(key).__name__} {getattr(key, 'key_size', '?')} bits")
    print(f"dev PKI creation: {(created - started) * 1000:.0f} ms (first use only)")
    print(f"PKCS#12 load: {(loaded - created) * 1000:.0f} ms (once per process)")
    print(
        f"{options.iterations} signatures of {options.size} bytes: "
        f"mean {statistics.fmean(timings):.3f} ms, p95 {p95:.3f} ms, "
        f"min {timings[0]:.3f} ms, max {timings[-1]:.3f} ms"
    )


if __name__ == "__main__":
    main()
