"""The action's cold path: what a workflow waits for, from a fresh container
of the image to the step's outputs written.

Run through `bench/run coldpath IMAGE...` (scripts/build-image.sh builds
one). For each image, --reps times: a new container of the image (with
buildah's vfs driver that copies the image, as a runner unpacks a pulled
one), then the action run in it as the runner runs it (GITHUB_* variables,
the workspace mounted, the inputs as action.yml passes them), publishing
the 500-file results to the benchmark's s3s-fs server, with each engine of
--engines (Allure 2, Allure 3's folder report, its single file). The action's own
summary gives its phases; "start" is the rest of the run's wall time
(container and process start, settings, the results check). Beside each
image its size and its compressed size (its layers gzipped, what a runner
pulls), and the pull that size costs at 100 MB per 4.5 s, a hosted runner's
rate. Prints a Markdown table and writes it to bench/out/coldpath.md.
"""

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import BUCKET, CACHE, KEY, OUT, REGION, SECRET, Server, prepare

BUILDAH = ["buildah", "--storage-driver", "vfs"]
PULL_MB_PER_S = 100 / 4.5
PHASES = ("start", "history", "generate", "upload", "promote")


def buildah(*args: str) -> str:
    return subprocess.run(BUILDAH + list(args), check=True, capture_output=True,
                          text=True).stdout.strip()


def sizes(image: str) -> tuple[int, int]:
    """The image's size (its layers unpacked) and its gzipped layers' (what a
    runner pulls), from `buildah push` of the image to a folder."""
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        buildah("push", "--quiet", "--format", "oci", "--compression-format", "gzip",
                image, f"oci:{tmp}/img")
        blobs = Path(tmp, "img/blobs/sha256")
        index = json.loads(Path(tmp, "img/index.json").read_text())
        manifest = json.loads((blobs / index["manifests"][0]["digest"][7:]).read_text())
        packed = unpacked = 0
        for layer in manifest["layers"]:
            packed += layer["size"]
            with gzip.open(blobs / layer["digest"][7:]) as f:
                while chunk := f.read(1 << 20):
                    unpacked += len(chunk)
    return unpacked, packed


def action_env(endpoint: str) -> dict[str, str]:
    env = {
        "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_REPOSITORY": "octo/bench",
        "GITHUB_RUN_ID": "1", "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_EVENT_NAME": "push",
        "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_JOB": "report",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_OUTPUT": "/github/file_commands/output",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/summary",
        "GITHUB_EVENT_PATH": "/github/file_commands/event.json",
        "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "ALLURE_RESULTS_DIR": "allure-results", "ALLURE_BUCKET": BUCKET,
        "ALLURE_S3_ENDPOINT": endpoint, "ALLURE_REGION": REGION,
        "ALLURE_SUMMARY_JSON": "/github/file_commands/timings.json",
    }
    return env


# The engines a cold run can take, as the action's inputs reach the image.
ENGINES = {
    "2": {},
    "3": {"ALLURE_VERSION": "3"},
    "3-single-file": {"ALLURE_VERSION": "3", "ALLURE_SINGLE_FILE": "true"},
}


def cold_run(image: str, results: Path, endpoint: str, project: str,
             engine: str = "2") -> dict:
    with tempfile.TemporaryDirectory(dir=CACHE) as ws, \
            tempfile.TemporaryDirectory(dir=CACHE) as files:
        subprocess.run(["cp", "-r", str(results), f"{ws}/allure-results"], check=True)
        Path(files, "event.json").write_text("{}")
        env = dict(action_env(endpoint), ALLURE_PROJECT=project, **ENGINES[engine])
        argv = ["run", "--isolation", "chroot",
                "--workingdir", "/github/workspace",
                "-v", f"{ws}:/github/workspace", "-v", f"{files}:/github/file_commands"]
        for k, v in env.items():
            argv += ["--env", f"{k}={v}"]
        t = time.perf_counter()
        ctr = buildah("from", image)
        create = time.perf_counter() - t
        try:
            t = time.perf_counter()
            ran = subprocess.run(BUILDAH + argv + [ctr, "--", "/entrypoint.sh"],
                                 capture_output=True, text=True)
            wall = time.perf_counter() - t
            if ran.returncode != 0:
                raise RuntimeError(f"the action failed in {image}:\n{ran.stdout[-3000:]}"
                                   f"{ran.stderr[-3000:]}")
        finally:
            buildah("rm", ctr)
        outputs = Path(files, "output").read_text()
        assert "run-url<<" in outputs, f"no outputs written: {outputs!r}"
        t = json.loads(Path(files, "timings.json").read_text())["timings"]
    return {"create": create, "wall": wall, "start": wall - t["total"],
            "history": t["history"], "generate": t["generate"], "upload": t["upload"],
            "promote": t["manifest"] + t["latest"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="+", help="image tags (buildah, vfs storage)")
    ap.add_argument("--size", type=int, default=500, help="report files [500]")
    ap.add_argument("--reps", type=int, default=1, help="cold runs per image [1]")
    ap.add_argument("--engines", default="2",
                    help=f"comma-separated, of {', '.join(ENGINES)} [2]")
    args = ap.parse_args()
    inp = prepare(args.size)
    server = Server("s3s-fs")
    engines = args.engines.split(",")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        ap.error(f"unknown engine {unknown[0]!r}: use {', '.join(ENGINES)}")
    lines = [
        "| image | engine | size | compressed | pull at 100 MB/4.5 s | new container | "
        + " | ".join(PHASES) + " | start to outputs |",
        "|---|---|---:|---:|---:|---:|" + "---:|" * len(PHASES) + "---:|",
    ]
    try:
        for i, image in enumerate(args.images):
            size, packed = sizes(image)
            for engine in engines:
                runs = [cold_run(image, inp.results, server.url, f"cold{i}-{engine}-{n}", engine)
                        for n in range(args.reps)]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                lines.append(
                    f"| {image} | {engine} | {size / 1e6:.0f} MB | {packed / 1e6:.0f} MB "
                    f"| {packed / 1e6 / PULL_MB_PER_S:.1f} s | {med['create']:.1f} s | "
                    + " | ".join(f"{med[p]:.2f} s" for p in PHASES)
                    + f" | {med['wall']:.2f} s |")
                print(lines[-1], flush=True)
    finally:
        server.stop()
    text = "\n".join(lines + ["", f"{inp.files} report files from {args.size}-file results; "
                              f"median of {args.reps} cold run(s) per image and engine"]) + "\n"
    OUT.mkdir(exist_ok=True)
    (OUT / "coldpath.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
