"""The test history's cost: the same publish of an Allure 2 report of N tests
into a branch whose history already holds 50 runs of those tests, with the
history kept (the default) and without it (--test-history 0).

Run through `bench/run history`, which installs and builds first. For each
size it generates results and their report once (cached), publishes once to
create the history, widens that history to a full window of 50 runs, then
times `--reps` publishes of each mode, taking turns, on the s3s-fs server;
one more publish of each goes through the counting proxy for its requests.
It prints a Markdown table and writes it, with the raw figures as JSON, to
bench/out/.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

from bench import ALLURE, BUCKET, CACHE, KEY, OUT, PUBLISHER, REGION, SECRET, Server, client_env, machine
from count_proxy import WRITES, CountingProxy
from gen_results import generate

PREFIX, BRANCH = "history", "main"


def report_of(tests: int) -> Path:
    """An Allure 2 report of `tests` tests, cached between runs."""
    results = CACHE / f"history-results-{tests}"
    report = CACHE / f"history-report-{tests}"
    if not report.with_suffix(".complete").exists():
        shutil.rmtree(results, ignore_errors=True)
        shutil.rmtree(report, ignore_errors=True)
        print(f"generating {tests} tests and their report", flush=True)
        generate(results, tests)
        subprocess.run([ALLURE, "generate", results, "-o", report], check=True,
                       stdout=subprocess.DEVNULL)
        report.with_suffix(".complete").touch()
    return report


def publish(env, endpoint: str, project: str, run_id: str, report: Path,
            history: bool) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        summary = Path(tmp) / "summary.json"
        argv = [PUBLISHER, "publish", "--bucket", BUCKET, "--prefix", PREFIX,
                "--project", project, "--branch", BRANCH, "--run-id", run_id,
                "--s3-endpoint", endpoint, "--report", report, "--summary-json", summary]
        if not history:
            argv += ["--test-history", "0"]
        start = time.perf_counter()
        done = subprocess.run([str(a) for a in argv], env=env, cwd=tmp, check=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        if b"test history" in done.stderr:
            raise RuntimeError(f"publish warned:\n{done.stderr.decode(errors='replace')}")
        return seconds, json.loads(summary.read_text())["timings"]


def widen(client, project: str, runs: int) -> int:
    """Copy the history's newest run into `runs` columns; returns its bytes."""
    key = f"{PREFIX}/{project}/{BRANCH}/tests/history.json"
    h = json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    line = h["lines"][0]
    one = line["runs"][-1]
    line["runs"] = [dict(one, id=f"old-{i}", build_order=i) for i in range(runs - 1)]
    line["runs"].append(one)
    for t in line["tests"]:
        for column in ("s", "d", "u", "f"):
            t[column] = t[column][-1:] * runs
    body = json.dumps(h, separators=(",", ":")).encode()
    client.put_object(Bucket=BUCKET, Key=key, Body=body)
    return len(body)


def measure(env, server: Server, proxy: CountingProxy, tests: int, reps: int) -> dict:
    report = report_of(tests)
    client = boto3.client("s3", endpoint_url=server.url, region_name=REGION,
                          aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    project = f"h{tests}"
    serial = iter(range(1, 10_000))
    proxied = f"http://127.0.0.1:{proxy.port}"
    # The first publish through an endpoint measures its server: pay it here,
    # then once more so the Allure trend is carried as in every later run.
    for _ in range(2):
        publish(env, proxied, project, f"r{next(serial)}", report, True)
    history_bytes = widen(client, project, 50)
    counts = {}
    for mode in (True, False):
        proxy.take()
        publish(env, proxied, project, f"r{next(serial)}", report, mode)
        counts[mode] = proxy.take()
    seconds = {True: [], False: []}
    step = []
    for rep in range(reps):
        for mode in ((True, False) if rep % 2 == 0 else (False, True)):
            s, timings = publish(env, server.url, project, f"r{next(serial)}", report, mode)
            seconds[mode].append(s)
            if mode:
                step.append(timings["tests"])
    page = client.get_object(Bucket=BUCKET,
                             Key=f"{PREFIX}/{project}/{BRANCH}/tests/index.html")["Body"].read()
    return {
        "tests": tests,
        "history_bytes": history_bytes,
        "page_bytes": len(page),
        "with": statistics.median(seconds[True]),
        "without": statistics.median(seconds[False]),
        "step": statistics.median(step),
        "requests_with": sum(counts[True].values()),
        "requests_without": sum(counts[False].values()),
        "writes_with": sum(n for k, n in counts[True].items() if k in WRITES),
        "writes_without": sum(n for k, n in counts[False].items() if k in WRITES),
        "counts_with": dict(counts[True]),
        "counts_without": dict(counts[False]),
    }


def render(rows: list[dict]) -> str:
    out = ["| Tests | History (50 runs) | Per test | Tests page | Publish without | "
           "Publish with | Added | History step | Requests without → with |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        added = r["with"] - r["without"]
        out.append(
            f"| {r['tests']:,} | {r['history_bytes'] / 1e6:.1f} MB | "
            f"{r['history_bytes'] / r['tests']:.0f} B | {r['page_bytes'] / 1e3:.0f} kB | "
            f"{r['without']:.2f} s | {r['with']:.2f} s | {added:+.2f} s "
            f"({100 * added / r['without']:+.1f} %) | {r['step']:.2f} s "
            f"({100 * r['step'] / r['with']:.1f} %) | "
            f"{r['requests_without']} → {r['requests_with']} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,50000", help="tests [1000,10000,50000]")
    ap.add_argument("--reps", type=int, default=3, help="timed publishes per mode [3]")
    ap.add_argument("--smoke", action="store_true", help="200 tests, one round")
    args = ap.parse_args()
    if args.smoke:
        args.sizes, args.reps = "200", 1
    CACHE.mkdir(exist_ok=True)
    OUT.mkdir(exist_ok=True)
    env = client_env()
    server = Server("s3s-fs")
    proxy = CountingProxy(server.port)
    try:
        rows = [measure(env, server, proxy, int(n), args.reps) for n in args.sizes.split(",")]
    finally:
        server.stop()
    text = render(rows)
    print("\n" + text)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"history-{stamp}.md").write_text(text)
    (OUT / f"history-{stamp}.json").write_text(json.dumps(
        {"command": " ".join(["bench/run history"] + sys.argv[1:]), "machine": machine(),
         "rows": rows}, indent=1))
    extra = [r for r in rows if r["writes_with"] - r["writes_without"] > 3]
    if extra:
        print(f"the history added more than 3 writes: {extra}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
