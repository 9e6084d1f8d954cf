"""The tests page with many tests, in Chromium: page and history weight,
load time, and the search's first (history.json fetched) and next times.

Run through `bench/run tests-page [--sizes 1000,10000,20000]` (or with any
python3: it needs only the standard library, node_modules and chromium).
For each size `examples/tests_page.rs` writes a site of that many tests over
50 runs; `allure-host serve` serves it and bench/tests_page.mjs opens it.
Debug builds by default (a static file server and a page: the browser's
time is what is measured); `--release` builds and uses release ones.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERY = "checkout"


def build(release: bool) -> tuple[Path, Path]:
    profile = ["--release"] if release else []
    subprocess.run(["cargo", "build", "-q", *profile, "--example", "tests_page",
                    "--bin", "allure-host"], cwd=ROOT, check=True)
    target = ROOT / "target" / ("release" if release else "debug")
    return target / "examples/tests_page", target / "allure-host"


TIMES = ("dom_ms", "load_ms", "first_search_ms", "next_search_ms")


def measure(example: Path, server: Path, tests: int, runs: int, lines: int,
            repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as site:
        made = json.loads(subprocess.run(
            [example, site, str(tests), str(runs), "--lines", str(lines)],
            check=True, capture_output=True, text=True).stdout)
        serve = subprocess.Popen([server, "serve", site, "--port", "0"],
                                 stdout=subprocess.PIPE, text=True)
        try:
            line = serve.stdout.readline()
            base = next(w for w in line.split() if w.startswith("http://")).rstrip("/")
            seen = [json.loads(subprocess.run(
                ["node", ROOT / "bench/tests_page.mjs", base, made["path"], QUERY],
                cwd=ROOT, check=True, capture_output=True, text=True).stdout)
                for _ in range(repeat)]
        finally:
            serve.kill()
            serve.wait()
        # Each time the median of the visits (each a new browser, nothing cached).
        times = {k: statistics.median(v[k] for v in seen) for k in TIMES}
        return {**made, **seen[0], **times}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,20000", help="tests [1000,10000,20000]")
    ap.add_argument("--runs", type=int, default=50, help="runs per line [50]")
    ap.add_argument("--lines", type=int, default=1, help="trend lines [1]")
    ap.add_argument("--repeat", type=int, default=3, help="visits per size, median [3]")
    ap.add_argument("--release", action="store_true", help="release builds")
    ap.add_argument("--smoke", action="store_true", help="200 tests")
    args = ap.parse_args()
    sizes = [200] if args.smoke else [int(n) for n in args.sizes.split(",")]
    example, server = build(args.release)
    print(f"Search for {QUERY!r}, then for {QUERY[:-1]!r}; {args.runs} runs, "
          f"{args.lines} line(s); times in Chromium (headless), median of "
          f"{args.repeat} visits.")
    print("| Tests | Page HTML | history.json | DOMContentLoaded | Load "
          "| First search (fetch + parse + show) | Next search | Matches |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in sizes:
        r = measure(example, server, n, args.runs, args.lines, args.repeat)
        print(f"| {n:,} | {r['html_bytes'] / 1e3:,.0f} kB | {r['history_bytes'] / 1e6:.1f} MB "
              f"| {r['dom_ms']:.0f} ms | {r['load_ms']:.0f} ms | {r['first_search_ms']:.0f} ms "
              f"| {r['next_search_ms']:.0f} ms | {r['found']} |", flush=True)
        fetched = set(r["requested"])
        problems = []
        if "matching test" not in r["found"] or not r["links"]:
            problems.append("the search found nothing, or linked nothing")
        if "history.json" in r["before_search"]:
            problems.append("history.json was fetched before any search")
        if "history.json" not in fetched:
            problems.append("history.json was not fetched by the search")
        if r["compared"]["differing"] or not r["compared"]["rows"]:
            problems.append(f"the search shows rows unlike the page's: {r['compared']}")
        if r["errors"]:
            problems.append(f"errors in the page: {r['errors']}")
        if len(r["hosts"]) != 1:
            problems.append(f"requests to other hosts: {r['hosts']}")
        if problems:
            print("; ".join(problems), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
