"""Allure 3 beside Allure 2 on the same results: generation time, CPU time
and report size, as `allure-host publish` runs each engine.

Run through `bench/run engines`. For each size (report files of the Allure 2
report, as bench.py counts them), the same deterministic results are
published --reps times per engine to a fresh local site (the first run of a
branch, so no history is carried), and the median of the summary's
`timings.generate`, the publish's CPU time (user + system, children
included) and the report's files and bytes are printed as a Markdown table
and written to bench/out/engines.md. Beside each, the engine's own
`allure generate` alone on the same results (wall and CPU time of that
process, the stock CLI with its default JVM), so what a publish adds to
generation, or saves (Allure 2's JVM options and class archive), shows.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ALLURE, CACHE, NODE22, OUT, PUBLISHER, ROOT, versions
from gen_results import generate, tests_for

ENGINES = ("2", "3")


def results_for(size: int) -> Path:
    results = CACHE / f"engines-results-{size}"
    if not results.with_suffix(".complete").exists():
        shutil.rmtree(results, ignore_errors=True)
        generate(results, tests_for(size))
        results.with_suffix(".complete").touch()
    return results


def cpu_of_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def publish(results: Path, engine: str) -> dict:
    env = dict(os.environ, ALLURE_BIN=str(ALLURE),
               ALLURE3_HOME=str(ROOT / "engines/allure3"))
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        before = cpu_of_children()
        subprocess.run(
            [PUBLISHER, "publish", "--results", results, "--local-dir", Path(tmp) / "site",
             "--project", "bench", "--branch", "main", "--allure", engine,
             "--summary-json", summary],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp)
        cpu = cpu_of_children() - before
        s = json.loads(summary.read_text())
    return {"generate": s["timings"]["generate"], "cpu": cpu,
            "files": s["report_files"], "bytes": s["report_size_bytes"]}


def stock(results: Path, engine: str) -> dict:
    """The engine's own `allure generate`, alone: what our run adds is the
    difference."""
    home = ROOT / "engines/allure3/node_modules"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        argv = ([ALLURE, "generate", results, "-o", out]
                if engine == "2" else
                [NODE22, home / "allure/cli.js", "generate", results,
                 "-o", out])
        before, t = cpu_of_children(), time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=tmp)
        wall, cpu = time.perf_counter() - t, cpu_of_children() - before
        files = [p for p in out.rglob("*") if p.is_file()]
        return {"generate": wall, "cpu": cpu, "files": len(files),
                "bytes": sum(p.stat().st_size for p in files)}


def row(size: int, tests: int, what: str, runs: list[dict]) -> str:
    med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
    return (f"| {size} | {tests} | {what} | {med('generate'):.2f} s | {med('cpu'):.2f} s "
            f"| {runs[0]['files']} | {runs[0]['bytes'] / 1048576:.1f} MiB |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,500,2000", help="report files [100,500,2000]")
    ap.add_argument("--reps", type=int, default=3, help="publishes per engine and size [3]")
    ap.add_argument("--smoke", action="store_true", help="one small size, once: checks it works")
    args = ap.parse_args()
    sizes = [100] if args.smoke else [int(s) for s in args.sizes.split(",")]
    reps = 1 if args.smoke else args.reps
    lines = [
        "| report files (Allure 2) | tests | run | generate (median) | CPU "
        "| report files | report size |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    ratios = []
    # Two publishes make Allure 2's class archive, as on any machine whose
    # cache persists; every measured run then uses it.
    for _ in range(2):
        publish(results_for(sizes[0]), "2")
    for size in sizes:
        results = results_for(size)
        tests = tests_for(size)
        medians = {}
        for engine in ENGINES:
            runs = [publish(results, engine) for _ in range(reps)]
            lines.append(row(size, tests, f"allure-host --allure {engine}", runs))
            medians[engine] = statistics.median(r["generate"] for r in runs)
            print(lines[-1], flush=True)
            alone = [stock(results, engine) for _ in range(reps)]
            medians[f"{engine} alone"] = statistics.median(r["generate"] for r in alone)
            lines.append(row(size, tests, f"Allure {engine} `allure generate` alone", alone))
            print(lines[-1], flush=True)
        ratios.append(f"{size} files: Allure 3 takes {medians['3'] / medians['2']:.2f}x "
                      f"Allure 2's generation time; allure-host's Allure 2 takes "
                      f"{medians['2'] / medians['2 alone']:.2f}x the stock CLI's")
    v = versions()
    made_with = (f"allure-host {v['allure-host']}; Allure 2: {v['Allure CLI']} on {v['Java']}; "
                 f"Allure 3: {v['Allure 3']} on Node.js 22 (engines/allure3)")
    text = "\n".join(lines + [""] + ratios + ["", made_with]) + "\n"
    OUT.mkdir(exist_ok=True)
    (OUT / "engines.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
