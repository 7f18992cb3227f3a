#!/usr/bin/env bash
# redis-cli and nc against StreamServer, compared with a real redis-server: every invocation below runs against
# both, and their outputs must be identical. Prints "cli: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ours_port=$(free_port)
redis_port=$(free_port)
work=$(mktemp -d)

server_dll=src/StreamServer/bin/Debug/net10.0/streamserver.dll
[ -f "$server_dll" ] || dotnet build src/StreamServer -v q >/dev/null
dotnet "$server_dll" --port "$ours_port" --bind 127.0.0.1 --dir "$work" >"$work/ours.log" 2>&1 &
ours_pid=$!
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
trap 'kill $ours_pid $redis_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

for port in "$ours_port" "$redis_port"; do
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.1
  done
done

passed=0
failed=0
check() { # name, then a command run with $PORT set; outputs must match
  local name=$1; shift
  local a b
  a=$(PORT=$ours_port bash -c "$*" 2>&1)
  b=$(PORT=$redis_port bash -c "$*" 2>&1)
  if [ "$a" == "$b" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name"
    echo "  command: $*"
    echo "  ours:  $(printf '%q' "$a")"
    echo "  redis: $(printf '%q' "$b")"
  fi
}
reset() { redis-cli -p "$ours_port" flushall >/dev/null; redis-cli -p "$redis_port" flushall >/dev/null; }

reset
check "ping" 'redis-cli -p $PORT ping'
check "set/get" 'redis-cli -p $PORT set greeting "hello world" && redis-cli -p $PORT get greeting'
check "no-raw" 'redis-cli -p $PORT --no-raw get greeting'
check "raw" 'redis-cli -p $PORT --raw get greeting'
check "integer" 'redis-cli -p $PORT incr counter; redis-cli -p $PORT incrby counter 41'
check "nil" 'redis-cli -p $PORT get missing'
check "error" 'redis-cli -p $PORT incr greeting'
check "unknown command" 'redis-cli -p $PORT nosuchcommand a b'
check "array" 'redis-cli -p $PORT mset a 1 b 2 >/dev/null; redis-cli -p $PORT mget a b missing'
check "hash resp2" 'redis-cli -p $PORT hset h f v >/dev/null; redis-cli -p $PORT hgetall h'
check "hash resp3" 'redis-cli -3 -p $PORT hgetall h'
check "set resp3" 'redis-cli -3 -p $PORT sadd s x >/dev/null; redis-cli -3 -p $PORT smembers s'
check "hello 3 proto" 'redis-cli -3 -p $PORT hello 3 | sed -n "5,6p"'
check "resp3 null" 'redis-cli -3 -p $PORT get missing'
check "resp3 double" 'redis-cli -3 -p $PORT hincrbyfloat h2 f 1.5'
check "stdin batch" 'printf "set x 1\nincr x\nget x\nping\n" | redis-cli -p $PORT'
check "stdin -x" 'printf "from stdin" | redis-cli -p $PORT -x set fromstdin >/dev/null; redis-cli -p $PORT get fromstdin'
check "pipe mode" 'printf "SET p1 v1\r\nSET p2 v2\r\n" | redis-cli -p $PORT --pipe | tail -1'
check "eval-less scan" 'redis-cli -p $PORT --scan --pattern "gree*"'
check "nc inline ping" 'printf "PING\r\n" | nc -q1 127.0.0.1 $PORT'
check "nc multibulk" 'printf "*2\r\n\$4\r\nECHO\r\n\$3\r\nabc\r\n" | nc -q1 127.0.0.1 $PORT'
check "nc protocol error" 'printf "*1\r\n\$x\r\n" | nc -q1 127.0.0.1 $PORT'
check "nc unbalanced quotes" 'printf "SET k \"v\r\n" | nc -q1 127.0.0.1 $PORT'
check "multi/exec" 'printf "MULTI\nINCR m\nINCR m\nEXEC\n" | redis-cli -p $PORT'
check "select" 'printf "SELECT 3\nSET d3 x\nDBSIZE\nSELECT 0\nEXISTS d3\n" | redis-cli -p $PORT'
check "client setname" 'printf "CLIENT SETNAME cli-test\nCLIENT GETNAME\n" | redis-cli -p $PORT'
check "type" 'redis-cli -p $PORT type h; redis-cli -p $PORT type s; redis-cli -p $PORT type greeting'
check "expire ttl" 'redis-cli -p $PORT expire greeting 100; redis-cli -p $PORT ttl greeting'
check "wrong arity" 'redis-cli -p $PORT get'
check "config get" 'redis-cli -p $PORT config get maxmemory-policy'
# Mass insertion (redis.io "Mass insertion"): 200,000 XADDs streamed through --pipe; every reply arrives, in order.
python3 -c 'import sys; sys.stdout.buffer.write(b"".join(b"*7\r\n$4\r\nXADD\r\n$4\r\nmass\r\n$%d\r\n%d-1\r\n$4\r\nuser\r\n$4\r\n1234\r\n$6\r\namount\r\n$2\r\n42\r\n" % (len(str(n)) + 2, n) for n in range(1, 200001)))' >"$work/mass.resp"
check "pipe mass insertion" 'redis-cli -p $PORT --pipe <'"$work"'/mass.resp | tail -1; redis-cli -p $PORT xlen mass; redis-cli -p $PORT xrange mass - + count 1; redis-cli -p $PORT xrevrange mass + - count 1'

# Interactive redis-cli in a terminal (tmux): the screen after a few commands must be the same.
interactive() {
  local session="cli$1"
  tmux new-session -d -s "$session" -x 120 -y 30 "redis-cli -p $1"
  sleep 0.5
  for line in "SET it 42" "INCR it" "GET it" "HSET ih f v" "HGETALL ih" "GET nothing" "NOSUCH x" "HELLO 3" ; do
    tmux send-keys -t "$session" "$line" Enter
    sleep 0.2
  done
  tmux capture-pane -p -t "$session" | sed "s/:$1>/:PORT>/; s/\(\"id\"\) .*/\1/; /^[0-9]*) (integer) [0-9]*$/d; /^ *$/d"
  tmux kill-session -t "$session"
}
if command -v tmux >/dev/null; then
  reset
  a=$(interactive "$ours_port")
  b=$(interactive "$redis_port" | sed 's/"7[.]0[.][0-9]*"/"8.10.0"/')
  if [ "$a" == "$b" ] && [ -n "$a" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: interactive redis-cli"; diff <(echo "$a") <(echo "$b"); fi
else
  failed=$((failed + 1)); echo "FAIL: tmux is not installed (needed for the interactive check)"
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
