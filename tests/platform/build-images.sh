#!/usr/bin/env bash
# Make sure the local test images exist: systemd targets (Debian 12, Debian 13) and the
# Python base for the app image. A registry is used when one answers; otherwise the images
# are built from Debian packages (debootstrap + docker import). Existing images are skipped.
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
TARGET_REPO="${TARGET_REPO:-dockhand/systemd}"
BASE_IMAGE="${APP_BASE_IMAGE:-dockhand/python-base:trixie}"
BASE_UPSTREAM="${APP_BASE_UPSTREAM:-python:3.13-slim-trixie}"
SUITES="${TARGET_SUITES:-bookworm trixie}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log() { printf '[images] %s\n' "$*"; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
pull() { timeout 120 docker pull -q "$1" >/dev/null 2>&1; }

need_debootstrap() {
  command -v debootstrap >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing debootstrap (Debian's package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  else
    log "debootstrap is missing: sudo apt-get install debootstrap"; exit 1
  fi
}

# Strip what a rootfs should not carry into an image: caches, host identity, machine id.
slim_rootfs() {
  local root=$1
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/*
  : >"$root/etc/hostname"
  : >"$root/etc/machine-id"
}

import_rootfs() {
  local root=$1 tag=$2 cmd=$3
  tar -C "$root" --numeric-owner -c . | docker import --change "CMD $cmd" - "$tag" >/dev/null
}

build_target() {
  local suite=$1 tag="$TARGET_REPO:$1"
  if have_image "$tag"; then log "$tag exists, skipped"; return; fi
  if pull "debian:$suite"; then
    log "$tag: registry answered, building from debian:$suite"
    docker build -q -t "$tag" - >/dev/null <<DOCKERFILE
FROM debian:$suite
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 systemd systemd-sysv ca-certificates curl gnupg sudo \
 && rm -rf /var/lib/apt/lists/* \
 && ln -sf /dev/null /etc/systemd/system/systemd-modules-load.service
CMD ["/lib/systemd/systemd"]
DOCKERFILE
    return
  fi
  need_debootstrap
  log "$tag: no registry, debootstrap $suite from $MIRROR"
  local root="$WORK/$suite"
  debootstrap --variant=minbase \
    --include=python3,systemd,systemd-sysv,ca-certificates,curl,gnupg,sudo \
    "$suite" "$root" "$MIRROR" >"$WORK/$suite.log" 2>&1 || { tail -20 "$WORK/$suite.log"; exit 1; }
  # Nothing to load in a container; without this trixie boots "degraded".
  ln -sf /dev/null "$root/etc/systemd/system/systemd-modules-load.service"
  slim_rootfs "$root"
  import_rootfs "$root" "$tag" '["/lib/systemd/systemd"]'
  rm -rf "$root"
  log "$tag built"
}

build_python_base() {
  local tag=$BASE_IMAGE
  if have_image "$tag"; then log "$tag exists, skipped"; return; fi
  if pull "$BASE_UPSTREAM"; then
    docker tag "$BASE_UPSTREAM" "$tag"
    log "$tag: registry answered, tagged from $BASE_UPSTREAM"
    return
  fi
  need_debootstrap
  log "$tag: no registry, debootstrap trixie with python3 from $MIRROR"
  local root="$WORK/python-base"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    trixie "$root" "$MIRROR" >"$WORK/python-base.log" 2>&1 || { tail -20 "$WORK/python-base.log"; exit 1; }
  slim_rootfs "$root"
  import_rootfs "$root" "$tag" '["python3"]'
  rm -rf "$root"
  log "$tag built"
}

# A gzip archive of the base image, for targets that must `docker load` it (no registry there).
save_python_base() {
  local out=$1
  local current
  current=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
  if [ -s "$out" ] && [ "$(cat "$out.id" 2>/dev/null)" = "$current" ]; then
    log "$out is current, skipped"; return
  fi
  mkdir -p "$(dirname "$out")"
  docker save "$BASE_IMAGE" | gzip -1 >"$out.tmp"
  mv "$out.tmp" "$out"
  echo "$current" >"$out.id"
  log "saved $BASE_IMAGE to $out ($(du -h "$out" | cut -f1))"
}

for suite in $SUITES; do build_target "$suite"; done
build_python_base
if [ -n "${BASE_ARCHIVE:-}" ]; then save_python_base "$BASE_ARCHIVE"; fi
