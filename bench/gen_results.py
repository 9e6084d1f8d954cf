"""Deterministic synthetic Allure 2 results of a chosen size.

The same (tests, seed) always gives byte-identical files, so every benchmark
run, and every tool within one, publishes the same report. Each test has a
text log and one more attachment (a screenshot a quarter of the time, else a
JSON response), so a generated report holds about three files per test plus
Allure's fixed files.
"""

import json
import random
import sys
import uuid
from pathlib import Path

# Files Allure 2.34 writes whatever the results (app, widgets, data, plugins).
FIXED_REPORT_FILES = 38
FILES_PER_TEST = 3
BASE_MS = 1_790_000_000_000

WORDS = (
    "request response session token user order cart payment retry timeout "
    "connect database query cache header status created updated deleted "
    "checkout invoice profile login logout search filter page item price"
).split()


def tests_for(report_files: int) -> int:
    return max(1, (report_files - FIXED_REPORT_FILES) // FILES_PER_TEST)


def log_text(rng: random.Random, size: int) -> bytes:
    lines = []
    total = 0
    t = 0
    while total < size:
        t += rng.randint(1, 40)
        level = rng.choice(("DEBUG", "INFO", "INFO", "INFO", "WARN"))
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
        line = f"12:{t // 60000 % 60:02d}:{t // 1000 % 60:02d}.{t % 1000:03d} {level:5} {words}"
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines).encode()[:size]


def screenshot(rng: random.Random, size: int) -> bytes:
    # A PNG signature and incompressible pixels: size is what matters here.
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(size - 8)


def json_response(rng: random.Random, size: int) -> bytes:
    items = []
    body = b""
    while len(body) < size:
        items.append(
            {
                "id": rng.randint(1, 10**9),
                "name": " ".join(rng.choice(WORDS) for _ in range(3)),
                "price": round(rng.uniform(1, 500), 2),
                "tags": [rng.choice(WORDS) for _ in range(rng.randint(1, 4))],
            }
        )
        body = json.dumps({"status": 200, "items": items}, indent=2).encode()
    return body


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(out: Path, tests: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    start = BASE_MS
    for i in range(tests):
        package = f"tests.{rng.choice(WORDS)}_{i % 20}"
        cls = f"Test{rng.choice(WORDS).title()}{i % 7}"
        name = f"test_{rng.choice(WORDS)}_{rng.choice(WORDS)}_{i}"
        roll = rng.random()
        status = (
            "passed"
            if roll < 0.85
            else "failed"
            if roll < 0.92
            else "broken"
            if roll < 0.95
            else "skipped"
        )
        duration = rng.randint(20, 4000)
        attachments = []
        log_source = f"{new_uuid(rng)}-attachment.txt"
        (out / log_source).write_bytes(log_text(rng, rng.randint(2_000, 16_000)))
        attachments.append({"name": "log", "source": log_source, "type": "text/plain"})
        if rng.random() < 0.25:
            source = f"{new_uuid(rng)}-attachment.png"
            (out / source).write_bytes(screenshot(rng, rng.randint(40_000, 160_000)))
            attachments.append({"name": "screenshot", "source": source, "type": "image/png"})
        else:
            source = f"{new_uuid(rng)}-attachment.json"
            (out / source).write_bytes(json_response(rng, rng.randint(1_000, 8_000)))
            attachments.append(
                {"name": "response", "source": source, "type": "application/json"}
            )
        steps = []
        t = start
        for s in range(rng.randint(2, 5)):
            step_ms = duration // 5
            steps.append(
                {
                    "name": f"step {s + 1}: {rng.choice(WORDS)} {rng.choice(WORDS)}",
                    "status": "passed",
                    "stage": "finished",
                    "start": t,
                    "stop": t + step_ms,
                }
            )
            t += step_ms
        result = {
            "uuid": new_uuid(rng),
            "historyId": f"{i:032x}",
            "testCaseId": f"{i:032x}",
            "fullName": f"{package}.{cls}#{name}",
            "name": name,
            "status": status,
            "stage": "finished",
            "start": start,
            "stop": start + duration,
            "steps": steps,
            "attachments": attachments,
            "parameters": [{"name": "browser", "value": rng.choice(("chromium", "firefox"))}],
            "labels": [
                {"name": "parentSuite", "value": package.split(".")[1]},
                {"name": "suite", "value": cls},
                {"name": "package", "value": package},
                {"name": "testClass", "value": cls},
                {"name": "testMethod", "value": name},
                {"name": "feature", "value": rng.choice(WORDS)},
                {"name": "severity", "value": rng.choice(("normal", "critical", "minor"))},
                {"name": "host", "value": "ci-runner-1"},
                {"name": "thread", "value": f"worker-{i % 4}"},
                {"name": "framework", "value": "pytest"},
                {"name": "language", "value": "python"},
            ],
        }
        if status in ("failed", "broken"):
            result["statusDetails"] = {
                "message": f"AssertionError: expected {rng.choice(WORDS)} got {rng.choice(WORDS)}",
                "trace": "\n".join(
                    f'  File "{package.replace(".", "/")}.py", line {rng.randint(1, 900)}, in {rng.choice(WORDS)}'
                    for _ in range(12)
                ),
            }
        (out / f"{result['uuid']}-result.json").write_text(json.dumps(result))
        start += duration + rng.randint(1, 50)
    (out / "environment.properties").write_text("python=3.11\nbrowser=chromium\nos=linux\n")
    (out / "categories.json").write_text(
        json.dumps(
            [
                {"name": "Product defects", "matchedStatuses": ["failed"]},
                {"name": "Test defects", "matchedStatuses": ["broken"]},
            ]
        )
    )


if __name__ == "__main__":
    # gen_results.py OUT_DIR REPORT_FILES
    generate(Path(sys.argv[1]), tests_for(int(sys.argv[2])))
