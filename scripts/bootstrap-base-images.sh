#!/usr/bin/env bash
# Build local stand-ins for the Dockerfile's base images when no container
# registry can be reached: a Debian rootfs from debootstrap, committed with
# buildah under the upstream image names. The Rust stand-in carries the
# host's Rust toolchain, which must be the version the Dockerfile pins.
# Usage: scripts/bootstrap-base-images.sh   (idempotent; skips existing images)
set -euo pipefail

# Major.minor of the toolchain rust-toolchain.toml pins, as the image is tagged.
RUST_VERSION="${RUST_VERSION:-$(sed -n 's/^channel = "\([0-9]*\.[0-9]*\).*/\1/p' "$(dirname "$0")/../rust-toolchain.toml")}"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${ALLURE_HOST_IMAGE_CACHE:-/var/tmp/allure-host-images}"
BUILDAH=(buildah --storage-driver vfs)
DEBIAN_IMAGE="docker.io/library/debian:${SUITE}-slim"
RUST_IMAGE="docker.io/library/rust:${RUST_VERSION}-slim-${SUITE}"

have_image() { "${BUILDAH[@]}" inspect --type image "$1" >/dev/null 2>&1; }

mkdir -p "$CACHE"
if ! have_image "$DEBIAN_IMAGE"; then
  if [ ! -f "$CACHE/$SUITE.tar" ]; then
    echo "debootstrap $SUITE (minbase) ..."
    rm -rf "${CACHE:?}/${SUITE:?}"
    debootstrap --variant=minbase "$SUITE" "$CACHE/$SUITE" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      { tail -20 "$CACHE/debootstrap.log"; exit 1; }
    # Slim like the upstream image: no apt lists, docs or man pages.
    rm -rf "${CACHE:?}/${SUITE:?}"/var/lib/apt/lists/* "$CACHE/$SUITE"/usr/share/doc/* "$CACHE/$SUITE"/usr/share/man/*
    tar -C "$CACHE/$SUITE" -cf "$CACHE/$SUITE.tar.part" . && mv "$CACHE/$SUITE.tar.part" "$CACHE/$SUITE.tar"
    rm -rf "${CACHE:?}/${SUITE:?}"
  fi
  ctr=$("${BUILDAH[@]}" from scratch)
  "${BUILDAH[@]}" add "$ctr" "$CACHE/$SUITE.tar" /
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$ctr"
  "${BUILDAH[@]}" commit --rm "$ctr" "$DEBIAN_IMAGE"
fi

if ! have_image "$RUST_IMAGE"; then
  toolchain="$(rustc --print sysroot)"
  case "$(rustc --version)" in
    "rustc $RUST_VERSION"*) ;;
    *) echo "error: the host rustc is not $RUST_VERSION; install it with rustup" >&2; exit 1 ;;
  esac
  ctr=$("${BUILDAH[@]}" from "$DEBIAN_IMAGE")
  "${BUILDAH[@]}" run --isolation chroot "$ctr" -- sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*'
  # rustc, cargo and the standard library only: no docs, no sources.
  tmp=$(mktemp -d)
  tar -C "$toolchain" --exclude=./share/doc --exclude=./lib/rustlib/src --exclude=./share/man -cf "$tmp/rust.tar" .
  "${BUILDAH[@]}" add "$ctr" "$tmp/rust.tar" /usr/local/rust/
  rm -rf "$tmp"
  "${BUILDAH[@]}" config --env CARGO_HOME=/usr/local/cargo \
    --env PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  "${BUILDAH[@]}" commit --rm "$ctr" "$RUST_IMAGE"
fi
"${BUILDAH[@]}" images
