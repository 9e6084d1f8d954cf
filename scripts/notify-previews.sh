#!/usr/bin/env bash
# The chat messages of docs/notifications.md, made for real: a branch "main"
# with a test history, then a feature branch whose run fails tests that
# passed (or were flaky) on main, published with notifications to the local
# stand-in receiver. The bodies it received are kept in docs/notifications/,
# checked against each service's definitions, and rendered to
# docs/screenshots/notify-*.png (tests/support/payloads.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
cargo build -q --locked
bin="$repo/target/debug/allure-host"
work="$(mktemp -d)"
trap 'kill "$mock" 2>/dev/null || true; rm -rf "$work"' EXIT

python3 tests/support/mock_webhooks.py >"$work/port" &
mock=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
hooks="http://127.0.0.1:$(cat "$work/port")"

# Example results with some statuses changed: NN=status ...
results() {
  rm -rf "$work/results"
  cp -r examples/allure-results "$work/results"
  python3 - "$work/results" "$@" <<'EOF'
import glob, json, sys
for arg in sys.argv[2:]:
    n, status = arg.split("=")
    path = glob.glob(f"{sys.argv[1]}/*{n}-result.json")[0]
    r = json.load(open(path))
    r["status"] = status
    json.dump(r, open(path, "w"))
EOF
}

publish() {
  "$bin" publish --results "$work/results" --local-dir "$work/site" \
    --project payments --variant py=3.12 --cloudfront https://d111111abcdef8.cloudfront.net "$@" >/dev/null
}

for run in "09=passed 10=passed" "09=failed 10=passed" "09=passed 10=passed" \
           "09=passed 10=passed" "09=failed 10=passed" "09=passed 10=passed"; do
  # shellcheck disable=SC2086 # one status per word
  results $run
  publish --branch main
done
results 09=failed 10=passed 07=failed
ALLURE_NOTIFY="slack:$hooks/ok/slack/x,teams:$hooks/ok/teams/x,google-chat:$hooks/ok/chat/x" \
  publish --branch feat/checkout --compare-to main

mkdir -p docs/notifications docs/screenshots
python3 - "$hooks" docs/notifications <<'EOF'
import json, sys, urllib.request
seen = json.load(urllib.request.urlopen(f"{sys.argv[1]}/_mock/requests"))
for name, path in [("slack", "/ok/slack/"), ("teams", "/ok/teams/"), ("google-chat", "/ok/chat/")]:
    body = next(r["body"] for r in seen if r["path"].startswith(path))
    with open(f"{sys.argv[2]}/{name}.json", "w") as f:
        json.dump(body, f, indent=2, ensure_ascii=False)
        f.write("\n")
EOF
node tests/support/payloads.mjs chat docs/notifications
node tests/support/payloads.mjs preview docs/notifications docs/screenshots
ls -l docs/notifications docs/screenshots/notify-*.png
