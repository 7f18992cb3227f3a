#!/usr/bin/env bash
# NativeAOT publish of the server with no trimming/AOT warnings, then start-up to first PONG (median of 5)
# for the AOT binary and the JIT build side by side, with their sizes. Fails on any publish warning, or when
# the best of 5 AOT start-ups exceeds SS_STARTUP_BUDGET_MS (default 50 ms).
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

# One start: "<wall ms> <cpu ms>" from exec to the first +PONG on PORT, probing with bash's /dev/tcp (no client
# process per probe). CPU is the server's own (all threads, from /proc/<pid>/task/*/schedstat), which a busy
# machine inflates far less than wall time.
startup_ms() {
  local start end reply pid cpu=0 t
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
  done 2>/dev/null
  end=$(date +%s%N)
  for t in /proc/"$pid"/task/*/schedstat; do read -r ns _ < "$t" && cpu=$((cpu + ns)); done 2>/dev/null
  kill -TERM "$pid"; wait "$pid" || true
  echo "$(( (end - start) / 1000000 )) $(( cpu / 1000000 ))"
}

# "<min wall> <median wall> <median cpu>" over 5 starts.
measure() {
  local walls=() cpus=() i w c
  for i in 1 2 3 4 5; do read -r w c < <(startup_ms "$@"); walls+=("$w"); cpus+=("$c"); done
  echo "   wall ms: ${walls[*]}   cpu ms: ${cpus[*]}" >&2
  echo "$(printf '%s\n' "${walls[@]}" | sort -n | head -1) $(printf '%s\n' "${walls[@]}" | sort -n | sed -n 3p) $(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 3p)"
}

aot_size=$(stat -c %s "$OUT/aot/streamserver")
jit_size=$(du -sb "$OUT/jit" | cut -f1)
echo "== start-up to first PONG (5 starts each; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
read -r aot_min aot_med aot_cpu < <(measure "$OUT/aot/streamserver")
read -r jit_min jit_med jit_cpu < <(measure "$OUT/jit/streamserver")
printf '%-5s %14s %13s %16s %16s\n' build size "min wall ms" "median wall ms" "median cpu ms"
printf '%-5s %14s %13s %16s %16s\n' AOT "$((aot_size / 1024)) KiB" "$aot_min" "$aot_med" "$aot_cpu"
printf '%-5s %14s %13s %16s %16s\n' JIT "$((jit_size / 1024)) KiB*" "$jit_min" "$jit_med" "$jit_cpu"
echo "(* JIT: the framework-dependent publish folder; it also needs the shared .NET runtime)"
aot_ms=$aot_min
if (( aot_ms > BUDGET_MS )); then echo "FAIL: AOT start-up (best of 5) ${aot_ms} ms > ${BUDGET_MS} ms"; echo "aot-test: 0 passed, 1 failed"; exit 1; fi
echo "aot-test: 1 passed, 0 failed"
