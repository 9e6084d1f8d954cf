"""Publish speed, S3 requests and peak memory of allure-host beside its peers.

Run through `bench/run`, which installs the tools first. For each S3 server
and report size it runs every tool once through the counting proxy (which
also warms caches), then `--reps` timed runs straight to the server, the
tools taking turns; the publish that measures the server, once per bucket
and endpoint, comes before and is reported apart. It prints Markdown tables
and writes them, with the raw figures as JSON, to bench/out/.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import boto3
from botocore.config import Config

from count_proxy import WRITES, CountingProxy
from gen_results import generate, tests_for

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"
OUT = BENCH / "out"
VENV_BIN = Path(sys.executable).parent
ALLURE = ROOT / "engines/allure2/node_modules/.bin/allure"
PUBLISHER = ROOT / "target/release/allure-host"
S3_SERVER = BENCH / "s3-server/target/release/bench-s3-server"
ARP = BENCH / "node_modules/allure-report-publisher/bin/run.js"
# allure-report-publisher and Allure 3 need Node.js 22: the one beside Allure 3.
NODE22 = next((p for p in (ROOT / "engines/allure3/node_modules").glob("node-linux-*/bin/node")),
              Path("node"))
KEY, SECRET, REGION, BUCKET = "bench", "bench-secret-key", "us-east-1", "bench"
# Bump when gen_results.py changes, so cached results and reports are rebuilt.
GEN_VERSION = 1

# Tools that upload a generated report, then tools that start from results.
# allure-report-publisher generates with Allure 3, so allure-host --allure 3
# runs beside it on the same footing.
REPORT_TOOLS = ["allure-host", "s5cmd", "aws s3 cp"]
RESULTS_TOOLS = ["allure-host (from results)", "pytest-allure-host",
                 "allure-host --allure 3 (from results)", "allure-report-publisher",
                 "allure-host --allure 3 --single-file (from results)"]
# With --baseline BIN: the same publishes by an earlier allure-host build.
BASELINE_TOOLS = ["baseline (from results)", "baseline --allure 3 (from results)"]
BASELINE: Path | None = None
# Tools whose upload is the Allure 2 report of bench's inputs, file for file.
ALLURE2_TOOLS = REPORT_TOOLS + ["allure-host (from results)", "pytest-allure-host"]


@dataclass
class Input:
    size: int
    results: Path
    report: Path
    files: int
    bytes: int


@dataclass
class Figures:
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    own: list[dict] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.seconds)

    def writes(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind in WRITES)


# ---------------------------------------------------------------- inputs


def prepare(size: int) -> Input:
    """Results and their Allure report for one size, cached between runs."""
    results = CACHE / f"results-{size}-v{GEN_VERSION}"
    report = CACHE / f"report-{size}-v{GEN_VERSION}"
    # The "complete" markers sit beside the folders: an extra empty file in
    # the report would be published too.
    if not results.with_suffix(".complete").exists():
        shutil.rmtree(results, ignore_errors=True)
        print(f"generating results for ~{size} report files", flush=True)
        generate(results, tests_for(size))
        results.with_suffix(".complete").touch()
    if not report.with_suffix(".complete").exists():
        shutil.rmtree(report, ignore_errors=True)
        print(f"generating the ~{size}-file report with Allure", flush=True)
        subprocess.run(
            [ALLURE, "generate", results, "-o", report], check=True, stdout=subprocess.DEVNULL
        )
        report.with_suffix(".complete").touch()
    files = [p for p in report.rglob("*") if p.is_file()]
    return Input(size, results, report, len(files), sum(p.stat().st_size for p in files))


# --------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One S3 server on loopback with an empty bucket."""

    def __init__(self, name: str):
        self.name = name
        self.port = free_port()
        self.data = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=CACHE))
        if name == "s3s-fs":
            argv = [S3_SERVER, str(self.port), self.data, KEY, SECRET]
        else:
            argv = [VENV_BIN / "moto_server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.log = open(self.data.with_suffix(".log"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_and_create_bucket()

    def _wait_and_create_bucket(self) -> None:
        client = boto3.client(
            "s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id=KEY,
            aws_secret_access_key=SECRET, config=Config(s3={"addressing_style": "path"}),
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                return
            except Exception as e:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start; see {self.log.name}") from e
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


# ----------------------------------------------------------------- tools


def client_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ALLURE_"))}
    env.update(
        AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost", ALLURE_BIN=str(ALLURE),
        ALLURE3_HOME=str(ROOT / "engines/allure3"),
        # pytest-allure-host finds `allure` on PATH; both tools use the same CLI.
        PATH=f"{ALLURE.parent}:{VENV_BIN}:{os.environ['PATH']}",
    )
    return env


def argv_for(tool: str, inp: Input, endpoint: str, project: str, run_id: str,
             scratch: Path) -> list:
    summary = scratch / "summary.json"
    dest = f"s3://{BUCKET}/{tool.split()[0]}/{project}/{run_id}/"
    publish = [PUBLISHER, "publish", "--bucket", BUCKET, "--prefix", "allure-host",
               "--project", project, "--branch", "main", "--run-id", run_id,
               "--s3-endpoint", endpoint, "--summary-json", summary]
    if tool == "allure-host":
        return publish + ["--report", inp.report]
    if tool == "allure-host (from results)":
        return publish + ["--results", inp.results]
    if tool == "allure-host --allure 3 (from results)":
        return publish + ["--results", inp.results, "--allure", "3"]
    if tool == "allure-host --allure 3 --single-file (from results)":
        return publish + ["--results", inp.results, "--allure", "3", "--single-file"]
    if tool.startswith("baseline"):
        engine = ["--allure", "3"] if "--allure 3" in tool else []
        argv = [BASELINE] + publish[1:] + ["--results", inp.results] + engine
        argv[argv.index("--prefix") + 1] = "baseline"
        return argv
    if tool == "allure-report-publisher":
        # It reads the endpoint from the environment; --debug logs its phases.
        return ["/usr/bin/env", f"AWS_ENDPOINT={endpoint}", "AWS_FORCE_PATH_STYLE=true",
                f"PATH={NODE22.parent}:{ARP.parents[2] / '.bin'}:{os.environ['PATH']}",
                NODE22, ARP, "upload", "s3", "--bucket", BUCKET, "--prefix",
                f"allure-report-publisher/{project}", "--results-glob", inp.results,
                "--output", scratch / "report", "--debug"]
    if tool == "s5cmd":
        return [VENV_BIN / "s5cmd", "--endpoint-url", endpoint, "cp", f"{inp.report}/*", dest]
    if tool == "aws s3 cp":
        return [VENV_BIN / "aws", "--endpoint-url", endpoint, "s3", "cp", "--recursive",
                "--only-show-errors", inp.report, dest]
    if tool == "pytest-allure-host":
        return [VENV_BIN / "publish-allure", "--bucket", BUCKET, "--prefix",
                "pytest-allure-host", "--project", project, "--branch", "main",
                "--run-id", run_id, "--results", inp.results, "--report", scratch / "report",
                "--s3-endpoint", endpoint, "--summary-json", summary, "--skip-preflight",
                "--cloudfront", "https://bench.invalid"]
    raise ValueError(tool)


def arp_timings(log: Path, ended: float, seconds: float) -> dict | None:
    """allure-report-publisher's phases from its --debug log's timestamps:
    generation from starting Allure to Allure done, upload from listing the
    report's files to the process's end (history and report files)."""
    stamps = {}
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("[") and "] " in line:
            stamp, text = line[1:].split("] ", 1)
            for mark in ("Running allure", "generation completed", "Total report files"):
                if mark in text:
                    stamps[mark] = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    if len(stamps) < 3:
        return None
    return {"generate": stamps["generation completed"] - stamps["Running allure"],
            "upload": ended - stamps["Total report files"], "promote": 0.0, "total": seconds}


def own_timings(tool: str, summary: Path) -> dict | None:
    """The phases a publisher reports of itself, named alike for the tools."""
    if not summary.exists():
        return None
    t = json.loads(summary.read_text())["timings"]
    if tool.startswith(("allure-host", "baseline")):
        return {"generate": t["generate"], "upload": t["upload"],
                "promote": t["manifest"] + t["latest"], "total": t["total"]}
    return {"generate": t["generate"], "upload": t["upload_run"],
            "promote": t["two_phase_update"], "total": t["total"]}


def warm(folder: Path) -> None:
    """Read every input file, so no tool pays for disk reads the one before it
    saved it (the other tools' writes can push the input out of the page cache)."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(1 << 20):
                    pass


class Runner:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.serial = 0
        (CACHE / "logs").mkdir(parents=True, exist_ok=True)

    def run(self, tool: str, inp: Input, endpoint: str, project: str) -> tuple[float, int, dict | None]:
        """Run one tool once; returns (seconds, peak RSS in KiB, its own timings)."""
        warm(inp.report if tool in REPORT_TOOLS else inp.results)
        self.serial += 1
        run_id = f"r{self.serial:05d}"
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            scratch = Path(tmp)
            argv = [str(a) for a in argv_for(tool, inp, endpoint, project, run_id, scratch)]
            log_path = CACHE / "logs" / f"{project}-{tool.split()[0]}-{run_id}.log"
            rss_path = scratch / "rss"
            # GNU time reports the peak RSS of the tool and its children (Allure's
            # JVM included). Measuring from here instead would count this Python
            # process, which the child is forked from, as the tool's memory.
            argv = ["/usr/bin/time", "-f", "%M", "-o", str(rss_path)] + argv
            with open(log_path, "wb") as log:
                start = time.perf_counter()
                code = subprocess.run(argv, env=self.env, cwd=scratch, stdout=log,
                                      stderr=subprocess.STDOUT).returncode
                seconds = time.perf_counter() - start
                ended = time.time()
            if code != 0:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{tool} exited {code}; log {log_path}:\n{tail}")
            rss_kib = int(rss_path.read_text().split()[-1])
            if tool == "allure-report-publisher":
                return seconds, rss_kib, arp_timings(log_path, ended, seconds)
            return seconds, rss_kib, own_timings(tool, scratch / "summary.json")


def measure(runner: Runner, server: Server, proxy: CountingProxy, inp: Input,
            tools: list[str], reps: int, project: str) -> dict[str, Figures]:
    figures = {t: Figures() for t in tools}
    proxied = f"http://127.0.0.1:{proxy.port}"
    for tool in tools:
        proxy.take()
        runner.run(tool, inp, proxied, project)
        figures[tool].counts = proxy.take()
    for rep in range(reps):
        # Take turns, starting with a different tool each round.
        order = tools[rep % len(tools):] + tools[: rep % len(tools)]
        for tool in order:
            seconds, rss, own = runner.run(tool, inp, server.url, project)
            f = figures[tool]
            f.seconds.append(seconds)
            f.rss_kib.append(rss)
            if own:
                f.own.append(own)
        print(f"  {server.name} {inp.size}: round {rep + 1}/{reps} done", flush=True)
    return figures


def measure_server(runner: Runner, server: Server, proxy: CountingProxy, seed: Input) -> Counter:
    """The first write into a bucket measures the server once per endpoint
    and keeps the answer; pay it here, through the proxy and straight, so
    the figures are of publishes, and return what the measurement cost."""
    proxied = f"http://127.0.0.1:{proxy.port}"
    proxy.take()
    runner.run("allure-host", seed, proxied, "server-measurement")
    with_probe = proxy.take()
    runner.run("allure-host", seed, proxied, "server-measurement-2")
    without = proxy.take()
    runner.run("allure-host", seed, server.url, "server-measurement")
    return with_probe - without


def deep_branch(runner: Runner, server: Server, proxy: CountingProxy, inp: Input,
                seed: Input, runs: int, reps: int) -> dict[str, Figures]:
    """The same publish into a branch holding one run and one holding `runs`."""
    result = {}
    for label, existing in (("1 run", 1), (f"{runs} runs", runs)):
        project = f"deep-{existing}"
        for _ in range(existing):
            runner.run("allure-host", seed, server.url, project)
        figures = measure(runner, server, proxy, inp, ["allure-host"], reps, project)
        result[f"into a branch with {label}"] = figures["allure-host"]
        print(f"  branch with {label}: done", flush=True)
    return result


# ----------------------------------------------------------------- report


def version(argv: list) -> str:
    try:
        out = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=60)
        text = (out.stdout + out.stderr).strip().splitlines()
        return text[0] if text else "?"
    except OSError:
        return "not installed"


def machine() -> dict[str, str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{int(mem) // 1024 // 1024} GiB",
        "os": f"{platform.system()} {platform.release()}",
    }


def versions() -> dict[str, str]:
    sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    return {
        "allure-host": f"{version([PUBLISHER, '--version'])} ({sha})",
        "s5cmd": version([VENV_BIN / "s5cmd", "version"]),
        "aws s3 cp": version([VENV_BIN / "aws", "--version"]),
        # The peers' packages live in the venv this script runs in.
        "pytest-allure-host": importlib.metadata.version("pytest-allure-host"),
        "Allure CLI": version([ALLURE, "--version"]),
        "s3s-fs": "0.14.1, served by bench/s3-server with TCP_NODELAY",
        "moto": importlib.metadata.version("moto"),
        "Java": version(["java", "-version"]),
        "allure-report-publisher": json.loads(ARP.parents[1].joinpath("package.json")
                                              .read_text())["version"],
        "Allure 3": json.loads((ROOT / "engines/allure3/node_modules/allure/package.json")
                               .read_text())["version"],
    }


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def median_own(f: Figures, keys: tuple[str, ...]) -> float:
    return statistics.median(sum(o[k] for k in keys) for o in f.own)


def table(files: int, figures: dict[str, Figures]) -> list[str]:
    floor = figures["s5cmd"].median() if "s5cmd" in figures else None
    lines = [
        "| tool | median s | × s5cmd | writes / file | total requests | requests by kind | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for tool, f in figures.items():
        ratio = f"{f.median() / floor:.2f}" if floor else "–"
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(f.counts.items()))
        lines.append(
            f"| {tool} | {f.median():.2f} | {ratio} | {f.writes() / files:.2f} "
            f"| {sum(f.counts.values())} | {kinds} | {mib(max(f.rss_kib))} |"
        )
    return lines


def phases(figures: dict[str, Figures]) -> list[str]:
    """Each publisher's own report of its phases (medians)."""
    lines = ["| tool | generate s | upload s | promote s | total s (own) |",
             "|---|---:|---:|---:|---:|"]
    for tool, f in figures.items():
        if f.own:
            cells = " | ".join(f"{median_own(f, (k,)):.2f}"
                               for k in ("generate", "upload", "promote", "total"))
            lines.append(f"| {tool} | {cells} |")
    return lines


def versus_peer(figures: dict[str, Figures]) -> tuple[float, float] | None:
    """pytest-allure-host ÷ allure-host: end to end, and upload + promote."""
    ours, theirs = figures.get("allure-host (from results)"), figures.get("pytest-allure-host")
    if not (ours and theirs and ours.own and theirs.own):
        return None
    publish = ("upload", "promote")
    return (theirs.median() / ours.median(),
            median_own(theirs, publish) / median_own(ours, publish))


def scaling(sections: list[dict]) -> list[str]:
    lines = ["| server | report files | allure-host s | s5cmd s | × s5cmd | requests "
             "| writes − files | allure-host MiB | s5cmd MiB | vs pytest-allure-host: "
             "end to end | upload + promote |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sec in sections:
        f = sec["figures"]
        if sec["kind"] != "tools" or not {"allure-host", "s5cmd"} <= f.keys():
            continue
        ours, floor = f["allure-host"], f["s5cmd"]
        peer = versus_peer(f)
        e2e, pub = (f"{peer[0]:.1f}×", f"{peer[1]:.1f}×") if peer else ("–", "–")
        lines.append(
            f"| {sec['server']} | {sec['files']} | {ours.median():.2f} | {floor.median():.2f} "
            f"| {ours.median() / floor.median():.2f} | {sum(ours.counts.values())} "
            f"| {ours.writes() - sec['files']} | {mib(max(ours.rss_kib))} "
            f"| {mib(max(floor.rss_kib))} | {e2e} | {pub} |"
        )
    return lines


def render(run: dict) -> str:
    md = ["# Benchmark run", "", f"Command: `{run['command']}`", ""]
    md += [f"- {k}: {v}" for k, v in {**run["machine"], **run["versions"]}.items()]
    sections = run["sections"]
    for server, cost in run.get("server_measurement", {}).items():
        md += ["", f"The one-off measurement of {server} (once per bucket and endpoint, "
               f"before the figures below): {sum(cost.values())} requests "
               f"({', '.join(f'{k} {n}' for k, n in sorted(cost.items()))})."]
    md += ["", "## Scaling", ""] + scaling(sections)
    for sec in sections:
        f = sec["figures"]
        if sec["kind"] == "tools":
            md += ["", f"## {sec['server']}: {sec['files']} report files, "
                   f"{sec['bytes'] / 1e6:.1f} MB (median of {sec['reps']})", ""]
            md += table(sec["files"], f) + [""] + phases(f)
            peer = versus_peer(f)
            if peer:
                md += ["", f"pytest-allure-host ÷ allure-host: end to end {peer[0]:.1f}×; "
                       f"upload + promote (their own timings against ours) {peer[1]:.1f}×."]
        else:
            md += ["", f"## {sec['server']}: one more run into a branch that already holds "
                   f"runs ({sec['files']} report files, median of {sec['reps']})", ""]
            md += table(sec["files"], f)
    return "\n".join(md) + "\n"


def load(path: Path) -> dict:
    run = json.loads(path.read_text())
    for sec in run["sections"]:
        sec["figures"] = {
            tool: Figures(f["seconds"], f["rss_kib"], Counter(f["counts"]), f["own"])
            for tool, f in sec["figures"].items()
        }
    return run


# ------------------------------------------------------------------ checks


def check(inp: Input, figures: dict[str, Figures]) -> list[str]:
    """What must hold in every run, the smoke run included."""
    problems = []
    for tool, f in figures.items():
        if tool in ALLURE2_TOOLS and f.counts["PutObject"] < inp.files:
            problems.append(f"{tool} made {f.counts['PutObject']} PUTs for {inp.files} files")
    ours = figures.get("allure-host")
    if ours and ours.writes() > inp.files + 16:
        problems.append(f"allure-host made {ours.writes()} writes for {inp.files} files")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500,5000,20000",
                    help="report sizes in files, comma-separated [500,5000,20000]")
    ap.add_argument("--reps", type=int, help="timed rounds per size [5; 3 at 20000 files and up]")
    ap.add_argument("--servers", default="s3s-fs,moto", help="S3 servers [s3s-fs,moto]")
    ap.add_argument("--moto-max-size", type=int, default=5000,
                    help="skip moto above this size; it is slow and in memory [5000]")
    ap.add_argument("--deep-runs", type=int, default=200,
                    help="runs already in the branch for the scaling check; 0 skips it [200]")
    ap.add_argument("--tools", default=",".join(REPORT_TOOLS + RESULTS_TOOLS),
                    help="tools to run, comma-separated [all]")
    ap.add_argument("--smoke", action="store_true",
                    help="a tiny size, one round, 3 runs deep: proves the benchmark works")
    ap.add_argument("--baseline", type=Path, metavar="BIN",
                    help="an earlier allure-host build: adds the baseline tools "
                         "(bench/baseline.sh COMMIT builds one)")
    ap.add_argument("--render", type=Path, metavar="JSON",
                    help="print the tables of a saved run (bench/out/*.json) and exit")
    args = ap.parse_args()
    if args.render:
        print(render(load(args.render)))
        return 0
    if args.smoke:
        args.sizes, args.reps, args.deep_runs = "60", 1, 3
    global BASELINE
    BASELINE = args.baseline.resolve() if args.baseline else None
    if BASELINE is None and any(t.startswith("baseline") for t in args.tools.split(",")):
        ap.error("the baseline tools need --baseline BIN")
    sizes = [int(s) for s in args.sizes.split(",")]
    CACHE.mkdir(exist_ok=True)
    OUT.mkdir(exist_ok=True)

    runner = Runner(client_env())
    inputs = {size: prepare(size) for size in sizes}
    seed = prepare(60)
    run = {"command": " ".join(["bench/run"] + sys.argv[1:]), "machine": machine(),
           "versions": versions(), "sections": []}
    problems: list[str] = []
    for name in args.servers.split(","):
        server = Server(name)
        proxy = CountingProxy(server.port)
        try:
            cost = measure_server(runner, server, proxy, seed)
            run.setdefault("server_measurement", {})[name] = dict(cost)
            for size, inp in inputs.items():
                if name == "moto" and size > args.moto_max_size:
                    continue
                reps = args.reps or (3 if size >= 20000 else 5)
                print(f"{name}: {inp.files} report files, {reps} rounds", flush=True)
                figures = measure(runner, server, proxy, inp, args.tools.split(","),
                                  reps, f"s{size}")
                problems += [f"{name} {size}: {p}" for p in check(inp, figures)]
                run["sections"].append({"kind": "tools", "server": name, "files": inp.files,
                                        "bytes": inp.bytes, "reps": reps, "figures": figures})
            if name == "s3s-fs" and args.deep_runs > 0:
                inp = inputs[min(sizes)]
                reps = args.reps or 5
                deep = deep_branch(runner, server, proxy, inp, seed, args.deep_runs, reps)
                run["sections"].append({"kind": "deep", "server": name, "files": inp.files,
                                        "bytes": inp.bytes, "reps": reps, "figures": deep})
                counts = [f.counts for f in deep.values()]
                if counts[0] != counts[1]:
                    problems.append(f"deep branch: requests differ: {counts[0]} vs {counts[1]}")
        finally:
            server.stop()

    text = render(run)
    print("\n" + text)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"{stamp}.md").write_text(text)
    (OUT / f"{stamp}.json").write_text(
        json.dumps(run, indent=1, default=lambda o: o.__dict__)
    )
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
