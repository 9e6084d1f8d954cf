#!/usr/bin/env bash
# Build the action's image from the Dockerfile with buildah (no Docker engine
# needed). Base images that cannot be pulled are bootstrapped locally first.
# Usage: scripts/build-image.sh [TAG]     (default allure-host-action:dev)
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="${1:-allure-host-action:dev}"
BUILDAH=(buildah --storage-driver vfs)
bash scripts/bootstrap-base-images.sh >/dev/null
# The Rust image of the version rust-toolchain.toml pins.
rust_version=$(sed -n 's/^channel = "\([0-9]*\.[0-9]*\).*/\1/p' rust-toolchain.toml)
args=(--build-arg "RUST_IMAGE=docker.io/library/rust:${rust_version}-slim-bookworm")
grep -q "rust:${rust_version}-slim-bookworm" Dockerfile || {
  echo "error: the Dockerfile's default RUST_IMAGE is not Rust ${rust_version} (rust-toolchain.toml); update it" >&2
  exit 1
}
# Behind a TLS-intercepting proxy (site CAs in /usr/local/share/ca-certificates)
# the build needs the host's bundle to reach crates.io and npm.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  args+=(--volume /etc/ssl/certs/ca-certificates.crt:/run/build-ca.crt:ro
         --build-arg BUILD_CA_BUNDLE=/run/build-ca.crt)
fi
"${BUILDAH[@]}" build --isolation chroot --layers "${args[@]}" -f Dockerfile -t "$TAG" . >&2
size=$("${BUILDAH[@]}" inspect --type image --format '{{.Size}}' "$TAG" 2>/dev/null || true)
echo "built $TAG ${size:+($size bytes)}" >&2
echo "$TAG"
