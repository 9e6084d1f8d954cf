#!/usr/bin/env bash
# Build the action's image and run the action's end-to-end tests through it,
# the way the GitHub runner runs a container action: GITHUB_* variables, the
# workspace mounted at /github/workspace, GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY files, and the env action.yml sets; against moto and the
# mock GitHub API. Then the report the image's Allure 2 makes against the
# stock CLI's (tests/same_report.rs). Prints the image size.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="$(bash scripts/build-image.sh "${1:-allure-host-action:test}")"
echo "image $TAG: $(buildah --storage-driver vfs images --format '{{.Size}}' "$TAG")"
# One container is shared by the runs, so run them one at a time.
ALLURE_HOST_IMAGE="$TAG" cargo test --locked --features integration --test action --test same_report -- --test-threads 1
