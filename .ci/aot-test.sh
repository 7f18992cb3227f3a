#!/usr/bin/env bash
# NativeAOT publish of the server with no trimming/AOT warnings, then start-up to first PONG (median of 5)
# for the AOT binary and the JIT build side by side, with their sizes. Fails on any publish warning, or when
# the AOT start-up median exceeds SS_STARTUP_BUDGET_MS (default 50).
# Usage: bash .ci/aot-test.sh [output-dir]        (about 1.5-2 min on 2 cores; needs clang + zlib1g-dev)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d /tmp/streamserver-aot.XXXXXX)}
mkdir -p "$OUT"
BUDGET_MS=${SS_STARTUP_BUDGET_MS:-50}
PORT=${SS_TEST_PORT:-16390}

need=()
command -v clang >/dev/null || need+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== NativeAOT publish"
dotnet publish src/StreamServer -r linux-x64 -c Release -p:PublishAot=true -o "$OUT/aot" 2>&1 | tee "$OUT/aot-publish.log"
if grep -E "warning (IL|AOT|CS|CA)[0-9]+" "$OUT/aot-publish.log"; then
  echo "FAIL: the NativeAOT publish has warnings (above)"; exit 1
fi
echo "== JIT build"
dotnet publish src/StreamServer -c Release -o "$OUT/jit" >/dev/null

# ms from exec to the first +PONG on PORT, probing with bash's /dev/tcp (no client process per probe).
startup_ms() {
  local start end reply pid
  start=$(date +%s%N)
  "$@" --port "$PORT" --bind 127.0.0.1 --loglevel warning >/dev/null 2>&1 &
  pid=$!
  while :; do
    if exec 3<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then
      printf 'PING\r\n' >&3
      if IFS= read -r -t 2 reply <&3 && [[ $reply == "+PONG"* ]]; then exec 3>&- 3<&-; break; fi
      exec 3>&- 3<&-
    fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "server exited before answering" >&2; return 1; fi
    (( $(date +%s%N) - start < 30000000000 )) || { kill "$pid"; echo "no PONG in 30 s" >&2; return 1; }
  done
  end=$(date +%s%N)
  kill -TERM "$pid"; wait "$pid" || true
  echo $(( (end - start) / 1000000 ))
}

median5() {
  local runs=() i
  for i in 1 2 3 4 5; do runs+=("$(startup_ms "$@")"); done
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p
  echo "   runs: ${runs[*]}" >&2
}

aot_size=$(stat -c %s "$OUT/aot/streamserver")
jit_size=$(du -sb "$OUT/jit" | cut -f1)
echo "== start-up to first PONG (median of 5)"
aot_ms=$(median5 "$OUT/aot/streamserver")
jit_ms=$(median5 "$OUT/jit/streamserver")
printf '%-8s %12s %16s\n' build size startup_ms
printf '%-8s %12s %16s\n' AOT "$((aot_size / 1024)) KiB" "$aot_ms"
printf '%-8s %12s %16s\n' JIT "$((jit_size / 1024)) KiB*" "$jit_ms"
echo "(* JIT: the framework-dependent publish folder; it also needs the shared .NET runtime)"
if (( aot_ms > BUDGET_MS )); then echo "FAIL: AOT start-up ${aot_ms} ms > ${BUDGET_MS} ms"; exit 1; fi
echo "aot-test: 1 passed, 0 failed"
