"""Prune speed and S3 requests: one branch of many runs removed by
`allure-host prune`, beside `aws s3 rm --recursive` of the same prefix.

Run through `bench/run prune`. It publishes --runs runs of a ~60-file report
to one branch with allure-host (once; the server's folder is then copied
back before every measured run, so each tool starts from the same bucket),
then measures, on the s3s-fs server:
  - allure-host prune --branch main   (the whole branch, as a closed PR)
  - aws s3 rm --recursive             (the same prefix)
  - allure-host prune --keep 20       (cost follows what goes, not what stays)
each once through the counting proxy and --reps times straight to the server.
Prints a Markdown table and writes it to bench/out/prune.md.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import BUCKET, CACHE, OUT, PUBLISHER, VENV_BIN, CountingProxy, Server, client_env, prepare

PREFIX, PROJECT, BRANCH = "reports", "shop", "main"

TOOLS = {
    "allure-host prune --branch": lambda url: [
        PUBLISHER, "prune", "--bucket", BUCKET, "--s3-endpoint", url, "--prefix", PREFIX,
        "--project", PROJECT, "--branch", BRANCH, "--yes"],
    "aws s3 rm --recursive": lambda url: [
        VENV_BIN / "aws", "--endpoint-url", url, "s3", "rm", "--recursive", "--only-show-errors",
        f"s3://{BUCKET}/{PREFIX}/{PROJECT}/{BRANCH}/"],
    "allure-host prune --keep 20": lambda url: [
        PUBLISHER, "prune", "--bucket", BUCKET, "--s3-endpoint", url, "--prefix", PREFIX,
        "--project", PROJECT, "--keep", "20", "--yes"],
}


def populate(server: Server, runs: int, report: Path, env: dict) -> None:
    for i in range(runs):
        subprocess.run(
            [PUBLISHER, "publish", "--bucket", BUCKET, "--s3-endpoint", server.url,
             "--prefix", PREFIX, "--project", PROJECT, "--branch", BRANCH,
             "--run-id", f"run-{i:04d}", "--report", report],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if (i + 1) % 50 == 0:
            print(f"  published {i + 1}/{runs} runs", flush=True)


def objects(server: Server) -> int:
    root = server.data / BUCKET / PREFIX / PROJECT / BRANCH
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def restore(server: Server, snapshot: Path) -> None:
    shutil.rmtree(server.data / BUCKET)
    shutil.copytree(snapshot, server.data / BUCKET)


def run(argv: list, env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run([str(a) for a in argv], env=env, capture_output=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {done.returncode}:\n{done.stderr.decode()[-2000:]}")
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs on the branch [200]")
    ap.add_argument("--reps", type=int, default=3, help="timed rounds per tool [3]")
    ap.add_argument("--smoke", action="store_true", help="5 runs, 1 round: checks it works")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.reps = 5, 1
    env = client_env()
    report = prepare(60).report
    server = Server("s3s-fs")
    proxy = CountingProxy(server.port)
    try:
        print(f"publishing {args.runs} runs to {PROJECT}/{BRANCH}", flush=True)
        populate(server, args.runs, report, env)
        # The proxy is another endpoint: measure the server through it too
        # (a publish to another project), so no counted prune measures it.
        subprocess.run(
            [PUBLISHER, "publish", "--bucket", BUCKET, "--s3-endpoint",
             f"http://127.0.0.1:{proxy.port}", "--prefix", PREFIX, "--project",
             "server-measurement", "--branch", BRANCH, "--run-id", "measure", "--report", report],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = objects(server)
        snapshot = CACHE / "prune-snapshot"
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.copytree(server.data / BUCKET, snapshot)
        rows = []
        for tool, argv in TOOLS.items():
            restore(server, snapshot)
            proxy.take()
            run(argv(f"http://127.0.0.1:{proxy.port}"), env)
            counts = proxy.take()
            deleted = total - objects(server)
            seconds = []
            for _ in range(args.reps):
                restore(server, snapshot)
                seconds.append(run(argv(server.url), env))
            rows.append((tool, deleted, statistics.median(seconds), counts))
            print(f"  {tool}: {deleted} objects, {statistics.median(seconds):.2f} s", flush=True)
    finally:
        server.stop()
    aws = next(r for r in rows if r[0].startswith("aws"))[2]
    lines = [
        f"Branch of {args.runs} runs, {total} objects, on s3s-fs; median of {args.reps}.",
        "",
        "| tool | objects deleted | median s | × aws s3 rm | requests | by kind |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for tool, deleted, median, counts in rows:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        lines.append(f"| {tool} | {deleted} | {median:.2f} | {median / aws:.2f} "
                     f"| {sum(counts.values())} | {kinds} |")
    text = "\n".join(lines)
    print(text)
    OUT.mkdir(exist_ok=True)
    if not args.smoke:
        (OUT / "prune.md").write_text(text + "\n")
    ours = rows[0]
    if ours[1] != total:
        print(f"prune left {total - ours[1]} objects behind", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
