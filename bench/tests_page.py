"""The tests page with many tests, in Chromium: page and history weight,
load time, and the search's first (history.json fetched) and later times.

Run through `bench/run tests-page [--sizes 1000,10000,20000]`. For each size
`cargo run --example tests_page` writes a site of that many tests over 50
runs; `allure-host serve` serves it and bench/tests_page.mjs opens it.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target/release/allure-host"


def measure(tests: int) -> dict:
    with tempfile.TemporaryDirectory() as site:
        subprocess.run(["cargo", "run", "--release", "-q", "--example", "tests_page", "--",
                        site, str(tests)], cwd=ROOT, check=True)
        folder = Path(site) / "reports/demo/main/tests"
        sizes = {f.name: f.stat().st_size for f in folder.iterdir()}
        serve = subprocess.Popen([BIN, "serve", site, "--port", "0"], stdout=subprocess.PIPE,
                                 text=True)
        try:
            base = next(w for w in serve.stdout.readline().split() if w.startswith("http://"))
            out = subprocess.run(["node", ROOT / "bench/tests_page.mjs", base.rstrip("/"),
                                  "/reports/demo/main/tests/", "checkout"],
                                 check=True, capture_output=True, text=True)
        finally:
            serve.kill()
        return {"tests": tests, **sizes, **json.loads(out.stdout)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,20000", help="tests [1000,10000,20000]")
    ap.add_argument("--smoke", action="store_true", help="200 tests")
    args = ap.parse_args()
    sizes = [200] if args.smoke else [int(n) for n in args.sizes.split(",")]
    print("| Tests | Page | history.json | Load | First search | Next search |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        r = measure(n)
        print(f"| {n:,} | {r['index.html'] / 1e3:.0f} kB | {r['history.json'] / 1e6:.1f} MB | "
              f"{r['load_ms']} ms | {r['first_search_ms']} ms | {r['next_search_ms']} ms |",
              flush=True)
        if "matching test" not in r["found"]:
            print(f"the search found nothing: {r}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
