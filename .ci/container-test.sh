#!/usr/bin/env bash
# Builds docker/Dockerfile with podman against local stand-ins for the .NET base images (which cannot be
# pulled here), runs it, and checks: it answers PING (redis-cli from the host), its HEALTHCHECK passes,
# it runs as a non-root user, /data is the mounted volume, a config file mounted over the image's works,
# and data survives a container restart with --appendonly yes (skipped with a note while the server has no
# AOF: the check looks for the appendonly dir under /data). Then docker/compose.yaml with podman-compose
# (build args pointed at the same stand-ins, host port from STREAMSERVER_PORT): up, PING, data kept in the
# named volume across down/up, down.
#   runtime-deps stand-in: a `debootstrap --variant=minbase bookworm` rootfs, imported with `podman import`
#   sdk stand-in:          that rootfs + this machine's .NET SDK (clang/zlib1g-dev come from the Dockerfile)
# The rootfs tarball is cached under $SS_CI_CACHE (default /var/cache/streamserver-ci), keyed by date.
# Usage: bash .ci/container-test.sh   (on 2 busy cores: first run of a day ~12 min — debootstrap ~2, stand-in
#                                      images ~4, image build ~4 —; later runs ~15 s when src/ is unchanged
#                                      (podman's layer cache), ~4 min when it changed)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CACHE=${SS_CI_CACHE:-/var/cache/streamserver-ci}
PORT=${SS_CONTAINER_PORT:-16399}
NAME=streamserver-ci-$$
VOLUME=streamserver-ci-data-$$
PROJECT=streamserver-ci-$$
COMPOSE_PORT=${SS_COMPOSE_PORT:-16398}
WORK=$(mktemp -d /tmp/streamserver-container.XXXXXX)
mkdir -p "$CACHE"

need=()
for tool in podman runc debootstrap redis-cli podman-compose; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
  need=("${need[@]/redis-cli/redis-tools}")
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The engine settings repeat pm's flags for podman-compose, which runs plain `podman`.
printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n' > "$WORK/containers.conf"
export CONTAINERS_CONF=$WORK/containers.conf
pm() { podman --runtime runc --cgroup-manager cgroupfs "$@"; }

cleanup() {
  pm rm -f "$NAME" >/dev/null 2>&1 || true
  pm volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  if [[ -e $WORK/compose.ci.yaml ]]; then
    compose down -v >/dev/null 2>&1 || true
    pm network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { echo "== $(date +%T) $*"; }

# --- base image stand-ins ------------------------------------------------------------------------------
ROOTFS=$CACHE/rootfs-bookworm-$(date +%Y%m%d).tar
BASE_IMAGE=localhost/streamserver-ci/bookworm-minbase:$(date +%Y%m%d)
RUNTIME_IMAGE=localhost/streamserver-ci/runtime-deps:$(date +%Y%m%d)
SDK_IMAGE=localhost/streamserver-ci/sdk:$(date +%Y%m%d)
if [[ ! -s $ROOTFS ]]; then
  step "debootstrap minbase bookworm (cached as $ROOTFS)"
  rm -rf "$CACHE/rootfs-tmp"
  timeout 900 debootstrap --variant=minbase bookworm "$CACHE/rootfs-tmp" http://deb.debian.org/debian > "$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; exit 1; }
  tar -C "$CACHE/rootfs-tmp" --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' -cf "$ROOTFS.tmp" . \
    && mv "$ROOTFS.tmp" "$ROOTFS"
  rm -rf "$CACHE/rootfs-tmp"
fi
if ! pm image exists "$BASE_IMAGE"; then
  step "import the rootfs"
  pm import "$ROOTFS" "$BASE_IMAGE" >/dev/null 2>&1
fi
if ! pm image exists "$RUNTIME_IMAGE"; then
  # What mcr.microsoft.com/dotnet/runtime-deps:10.0 adds to Debian (.NET's RandomNumberGenerator needs libssl).
  step "runtime-deps stand-in"
  mkdir -p "$WORK/runtime-context"
  printf 'FROM %s\nRUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 libstdc++6 tzdata zlib1g && rm -rf /var/lib/apt/lists/*\n' \
    "$BASE_IMAGE" > "$WORK/runtime-context/Containerfile"
  timeout 600 podman --runtime runc --cgroup-manager cgroupfs build --network host -q -t "$RUNTIME_IMAGE" "$WORK/runtime-context" >/dev/null
fi
if ! pm image exists "$SDK_IMAGE"; then
  DOTNET_ROOT_DIR=$(dirname "$(readlink -f "$(command -v dotnet)")")
  step "sdk stand-in: rootfs + $DOTNET_ROOT_DIR"
  # This machine reaches NuGet through an egress proxy with its own CA: the stand-in trusts the host's
  # extra CAs (the real SDK image needs nothing of the kind where the internet is reached directly).
  mkdir -p "$WORK/sdk-context/ca"
  cp /usr/local/share/ca-certificates/*.crt "$WORK/sdk-context/ca/" 2>/dev/null || true
  cat > "$WORK/sdk-context/Containerfile" <<SDK
FROM $BASE_IMAGE
COPY ca/ /usr/local/share/ca-certificates/
RUN cp -a /mnt/dotnet /usr/share/dotnet && ln -sf /usr/share/dotnet/dotnet /usr/bin/dotnet \\
 && apt-get update && apt-get install -y --no-install-recommends ca-certificates clang zlib1g-dev \\
 && update-ca-certificates && rm -rf /var/lib/apt/lists/*
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online}
SDK
  timeout 900 podman --runtime runc --cgroup-manager cgroupfs build --network host -q -v "$DOTNET_ROOT_DIR:/mnt/dotnet:ro" \
    -t "$SDK_IMAGE" "$WORK/sdk-context" >/dev/null
fi

# --- the real Dockerfile ----------------------------------------------------------------------------
step "build docker/Dockerfile"
IMAGE=localhost/streamserver-ci/streamserver:test
# The host's NuGet cache is lent to the restore so the build does not download what is already here.
NUGET=${NUGET_PACKAGES:-$HOME/.nuget/packages}
mkdir -p "$NUGET"
timeout 1200 podman --runtime runc --cgroup-manager cgroupfs build --network host --format docker \
  -v "$NUGET:/root/.nuget/packages" \
  --build-arg SDK_IMAGE="$SDK_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
  -f docker/Dockerfile -t "$IMAGE" . > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
if grep -E "warning (IL|AOT|CS|CA)[0-9]+" "$WORK/build.log"; then echo "FAIL: warnings in the image build"; exit 1; fi
echo "image size: $(pm image inspect "$IMAGE" --format '{{.Size}}') bytes"

passed=0 failed=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}

# A config file mounted over the image's (port chosen here, as the host network is shared).
printf 'bind * -::*\nprotected-mode no\nport %s\ndir /data\n' "$PORT" > "$WORK/streamserver.conf"
chmod 644 "$WORK/streamserver.conf"
run() {
  # Without systemd podman logs "unable to get systemd connection" for the health timer: harmless, the check
  # itself is run below with `podman healthcheck run`.
  pm run -d --name "$NAME" --network host -v "$VOLUME:/data" \
    -v "$WORK/streamserver.conf:/etc/streamserver/streamserver.conf:ro" "$IMAGE" --appendonly yes >/dev/null
}
wait_pong() {
  for _ in $(seq 1 100); do
    [[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.1
  done
  pm logs "$NAME" | tail -20; return 1
}

step "run"
run
check "answers PING" wait_pong
check "HEALTHCHECK passes" pm healthcheck run "$NAME"
uid=$(pm exec "$NAME" id -u)
check "runs as non-root (uid $uid)" test "$uid" != 0
check "/data is the mounted volume" bash -c "pm() { podman --runtime runc --cgroup-manager cgroupfs \"\$@\"; }; pm inspect $NAME --format '{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}' | grep -q '/data=$VOLUME'"
check "CONFIG GET dir is /data" test "$(redis-cli -p "$PORT" config get dir | tail -1)" = /data
check "CONFIG GET appendonly is yes" test "$(redis-cli -p "$PORT" config get appendonly | tail -1)" = yes
check "non-root user can write /data" pm exec "$NAME" sh -c 'touch /data/.probe && rm /data/.probe'
redis-cli -p "$PORT" set ci:key kept >/dev/null
redis-cli -p "$PORT" rpush ci:unused x >/dev/null 2>&1 || true

step "restart"
pm stop -t 30 "$NAME" >/dev/null
check "SIGTERM (podman stop) exits 0" test "$(pm inspect "$NAME" --format '{{.State.ExitCode}}')" = 0
pm start "$NAME" >/dev/null
check "answers PING after restart" wait_pong
if pm exec "$NAME" sh -c 'ls /data/appendonlydir' >/dev/null 2>&1; then
  check "data kept in /data across restart" test "$(redis-cli -p "$PORT" get ci:key)" = kept
else
  echo "note: no /data/appendonlydir: the server writes no AOF yet, so persistence across restart is not checked"
fi

# --- docker/compose.yaml ---------------------------------------------------------------------------
# podman-compose 1.0.3 (Debian 12) merges -f files, but appends lists (ports, command), so the CI file only
# sets what is a map or a scalar: the stand-in base images and an image tag of its own. The host port comes
# from the compose file's STREAMSERVER_PORT. Its build gets the same flags as the build above, so it is
# served from podman's layer cache.
cat > "$WORK/compose.ci.yaml" <<YAML
services:
  streamserver:
    image: localhost/streamserver-ci/streamserver:compose
    build:
      args:
        SDK_IMAGE: $SDK_IMAGE
        RUNTIME_IMAGE: $RUNTIME_IMAGE
YAML
compose() {
  STREAMSERVER_PORT=$COMPOSE_PORT timeout 1200 podman-compose -p "$PROJECT" -f docker/compose.yaml -f "$WORK/compose.ci.yaml" \
    --podman-build-args="--network host --format docker -v $NUGET:/root/.nuget/packages" "$@" >> "$WORK/compose.log" 2>&1
}
compose_pong() {
  for _ in $(seq 1 100); do
    [[ $(redis-cli -p "$COMPOSE_PORT" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.1
  done
  tail -30 "$WORK/compose.log"; return 1
}
step "podman-compose up (docker/compose.yaml)"
if compose up -d; then
  check "compose: answers PING on the published port" compose_pong
  redis-cli -p "$COMPOSE_PORT" set ci:compose kept >/dev/null
  check "compose: appendonly yes (the file's command)" test "$(redis-cli -p "$COMPOSE_PORT" config get appendonly | tail -1)" = yes
  step "podman-compose down, up"
  compose down -t 30
  check "compose: the named volume outlives down" pm volume exists "${PROJECT}_streamserver-data"
  compose up -d
  check "compose: answers PING after down/up" compose_pong
  check "compose: data kept in the named volume across down/up" test "$(redis-cli -p "$COMPOSE_PORT" get ci:compose)" = kept
  compose down -t 30 -v
  check "compose: down -v removes the volume" bash -c "! podman volume exists ${PROJECT}_streamserver-data"
else
  tail -40 "$WORK/compose.log"; echo "FAIL compose: podman-compose up"; failed=$((failed + 1))
fi

echo "container-test: $passed passed, $failed failed"
((failed == 0))
