#!/usr/bin/env bash
# The server as a .NET tool: dotnet pack, dotnet tool install from the local folder, run `streamserver`,
# PING it, SIGTERM it (exit code 0). Each run packs a unique version so the NuGet cache never serves an
# older package. Usage: bash .ci/tool-test.sh      (about 1 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/streamserver-tool.XXXXXX)
PORT=${SS_TOOL_PORT:-16398}
VERSION=0.0.0-ci.$(date +%s)
trap 'rm -rf "$WORK"' EXIT

echo "== pack $VERSION"
dotnet pack src/StreamServer -c Release -p:Version="$VERSION" -o "$WORK/nupkg" > "$WORK/pack.log" 2>&1 || { cat "$WORK/pack.log"; exit 1; }
echo "== install"
dotnet tool install --tool-path "$WORK/tools" --add-source "$WORK/nupkg" --version "$VERSION" StreamServer
"$WORK/tools/streamserver" --version

echo "== run"
"$WORK/tools/streamserver" --port "$PORT" --bind 127.0.0.1 > "$WORK/server.log" 2>&1 &
pid=$!
reply=""
for _ in $(seq 1 300); do
  if exec 3<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || true
    exec 3>&- 3<&-
    [[ $reply == "+PONG"* ]] && break
  fi
  sleep 0.1
done 2>/dev/null
kill -TERM "$pid"
code=0; wait "$pid" || code=$?
cat "$WORK/server.log"
passed=0 failed=0
if [[ $reply == "+PONG"* ]]; then echo "ok   streamserver tool answers PING"; passed=$((passed + 1)); else echo "FAIL no PONG"; failed=$((failed + 1)); fi
if [[ $code == 0 ]]; then echo "ok   exits 0 on SIGTERM"; passed=$((passed + 1)); else echo "FAIL exit code $code on SIGTERM"; failed=$((failed + 1)); fi
echo "tool-test: $passed passed, $failed failed"
((failed == 0))
