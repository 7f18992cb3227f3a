#!/usr/bin/env python3
"""AOF benchmarks, StreamServer next to redis-server in the same run (issue #6's acceptance figures).

  throughput: XADD -P 16 with redis-benchmark against ours in memory, ours with appendonly yes, and redis-server with
              appendonly yes and the same appendfsync (each in its own temp dir); prints ops/s and the ratios.
  rewrite:    per server in turn: fills a keyspace of --keys keys (pipelined through redis-cli --pipe), then runs
              BGREWRITEAOF while a probe client issues SETs one at a time and records each latency (and
              redis-benchmark adds write load); prints p50/p99/max during the rewrite, the rewrite's duration and
              the AOF size before and after. Redis runs with aof-use-rdb-preamble no, as our files are RESP only.

  python3 benchmarks/load/aof.py throughput --aof everysec|always [--requests 200000] [--clients 50] [--rounds 3]
              the four servers measured in turn, --rounds times; per round ops/s and server CPU per op (with
              children: Redis rewrites in a forked child), then the ratios' medians and every round's
  python3 benchmarks/load/aof.py rewrite [--keys 5000000] [--stream | --hash | --set]
              --stream: one stream of --keys entries (user <n> amount 42) instead of SET keys; the probe and the load
              XADD to that stream, so the rewrite meets a large stream that keeps changing.
              --hash / --set: one hash h of --keys fields (field:<n> -> value<n % 1000>) / one set s of --keys members
              (member:<n>); the probe and the load HSET a new field / SADD a new member to it, so the rewrite meets
              a large hash / set that keeps changing.

Only 127.0.0.1 is targeted; servers and temp dirs are removed at the end.
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, free_port, run_benchmark, wait_ping  # noqa: E402

OURS_DLL = os.path.join(ROOT, "src/StreamServer/bin/Release/net10.0/streamserver.dll")


def start_ours(port, work, aof=None):
    args = ["dotnet", OURS_DLL, "--port", str(port), "--bind", "127.0.0.1", "--dir", work, "--loglevel", "warning"]
    if aof:
        args += ["--appendonly", "yes", "--appendfsync", aof]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_redis(port, work, aof=None):
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", work]
    args += ["--appendonly", "yes", "--appendfsync", aof, "--aof-use-rdb-preamble", "no"] if aof else ["--appendonly", "no"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(procs):
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(30)
        except Exception:
            proc.kill()


def build():
    subprocess.run(["dotnet", "build", "-c", "Release", "-v", "q", os.path.join(ROOT, "src/StreamServer")], check=True,
                   stdout=subprocess.DEVNULL)


def info(port, section="persistence"):
    out = subprocess.run(["redis-cli", "-p", str(port), "info", section], capture_output=True, text=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def dir_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def cpu_with_children(pid):
    """utime + stime + cutime + cstime: Redis's rewrite runs in a forked child (counted once reaped), ours in a thread."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")


def throughput(a):
    build()
    work = tempfile.mkdtemp(prefix="ss-aof-")
    servers = []
    try:
        for label, start, aof in (("ours in memory", start_ours, None), (f"ours appendfsync {a.aof}", start_ours, a.aof),
                                  ("redis in memory", start_redis, None), (f"redis appendfsync {a.aof}", start_redis, a.aof)):
            d = os.path.join(work, str(len(servers)))
            os.makedirs(d)
            port = free_port()
            servers.append((label, port, start(port, d, aof)))
        for _, port, _ in servers:
            wait_ping(port)
        # Warm-up, unmeasured, the same for every server: our JIT compiles the path once (a one-time cost), then
        # the stream is dropped so each measured run starts from an empty key.
        for _ in range(3):
            for _, port, _ in servers:
                run_benchmark(port, "xadd", a.requests, a.clients, 16)
                subprocess.run(["redis-cli", "-p", str(port), "del", "s"], capture_output=True)
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; redis-benchmark -n {a.requests} -c {a.clients} "
              f"-P 16 XADD s * f1 v1 (after a warm-up), {a.rounds} rounds, the four servers in turn in each")
        print("| round | server | XADD ops/s | server CPU µs/op |")
        print("|---:|---|---:|---:|")
        rounds = []
        for r in range(a.rounds):
            rps, cpu = {}, {}
            for label, port, proc in servers:
                c0 = cpu_with_children(proc.pid)
                rps[label] = run_benchmark(port, "xadd", a.requests, a.clients, 16)
                cpu[label] = (cpu_with_children(proc.pid) - c0) * 1e6 / a.requests
                subprocess.run(["redis-cli", "-p", str(port), "del", "s"], capture_output=True)
                print(f"| {r + 1} | {label} | {rps[label]:,.0f} | {cpu[label]:.2f} |")
                sys.stdout.flush()
            rounds.append((rps, cpu))
        ours_aof, ours_mem = f"ours appendfsync {a.aof}", "ours in memory"
        redis_aof, redis_mem = f"redis appendfsync {a.aof}", "redis in memory"

        def ratios(num, den, which):
            values = sorted(r[which][num] / r[which][den] for r in rounds)
            return values, values[len(values) // 2]

        print()
        for title, num, den, which, target in (
                (f"ours {a.aof} / ours in memory, ops/s", ours_aof, ours_mem, 0, "target for everysec: >= 0.9"),
                (f"redis {a.aof} / redis in memory, ops/s", redis_aof, redis_mem, 0, "for comparison"),
                (f"ours {a.aof} / redis {a.aof}, ops/s", ours_aof, redis_aof, 0, "target for always: >= 1.0"),
                (f"ours {a.aof} / ours in memory, CPU per op", ours_aof, ours_mem, 1, "what the AOF costs us"),
                (f"ours {a.aof} / redis {a.aof}, CPU per op", ours_aof, redis_aof, 1, "<= 1.0 is better than Redis")):
            values, median = ratios(num, den, which)
            print(f"{title}: median {median:.2f}, rounds {', '.join(f'{v:.2f}' for v in values)} ({target})")
    finally:
        stop([p for _, _, p in servers])
        shutil.rmtree(work, ignore_errors=True)


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def fill(port, keys, kind="keys"):
    """SET key:<n> <8-byte value> for n < keys (or XADD s * user <n> amount 42, or HSET h field:<n> value<n % 1000>
    / SADD s member:<n>, 100 fields or members per command), pipelined through redis-cli --pipe."""
    pipe = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    chunk = 100_000
    for start in range(0, keys, chunk):
        parts = []
        if kind in ("hash", "set"):
            for first in range(start, min(keys, start + chunk), 100):
                ns = range(first, min(keys, start + chunk, first + 100))
                if kind == "hash":
                    items = [bulk(b"field:%d" % n) + bulk(b"value%03d" % (n % 1000)) for n in ns]
                    parts.append(b"*%d\r\n$4\r\nHSET\r\n$1\r\nh\r\n%s" % (2 + 2 * len(items), b"".join(items)))
                else:
                    items = [bulk(b"member:%d" % n) for n in ns]
                    parts.append(b"*%d\r\n$4\r\nSADD\r\n$1\r\ns\r\n%s" % (2 + len(items), b"".join(items)))
            pipe.stdin.write(b"".join(parts))
            continue
        for n in range(start, min(keys, start + chunk)):
            if kind == "stream":
                u = b"%d" % (n % 10000)
                parts.append(b"*7\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$4\r\nuser\r\n$%d\r\n%s\r\n$6\r\namount\r\n$2\r\n42\r\n" % (len(u), u))
                continue
            k = b"key:%d" % n
            parts.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$8\r\nvalue%03d\r\n" % (len(k), k, n % 1000))
        pipe.stdin.write(b"".join(parts))
    pipe.stdin.close()
    pipe.wait()


class Probe(threading.Thread):
    """One client issuing SET probe:<i> (or XADD s * f v, HSET h probe:<i> 1, SADD s probe:<i>) one at a time;
    records (start time, latency) of each."""

    def __init__(self, port, kind="keys"):
        super().__init__(daemon=True)
        self.port, self.samples, self.running, self.kind = port, [], True, kind

    def run(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        i = 0
        while self.running:
            key = b"probe:%d" % (i % 1000)
            if self.kind == "stream":
                msg = b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n"
            elif self.kind == "hash":
                msg = b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n%s$1\r\n1\r\n" % bulk(b"probe:%d" % i)
            elif self.kind == "set":
                msg = b"*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n%s" % bulk(b"probe:%d" % i)
            else:
                msg = b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\n1\r\n" % (len(key), key)
            t0 = time.perf_counter()
            s.sendall(msg)
            reply = b""
            while not reply.endswith(b"\r\n"):
                reply += s.recv(64)
            self.samples.append((t0, time.perf_counter() - t0))
            i += 1
        s.close()


SIZE = {"keys": ["dbsize"], "stream": ["xlen", "s"], "hash": ["hlen", "h"], "set": ["scard", "s"]}
WORKLOAD = {"keys": ["-r", "100000", "-t", "set"], "stream": ["xadd", "s", "*", "f", "v"],
            "hash": ["-r", "100000000", "hset", "h", "load:__rand_int__", "v"], "set": ["-r", "100000000", "sadd", "s", "load:__rand_int__"]}


def rewrite_once(label, start, keys, kind="keys"):
    work = tempfile.mkdtemp(prefix="ss-aofrw-")
    port = free_port()
    proc = start(port, work, "everysec")
    load = None
    try:
        wait_ping(port)
        t0 = time.time()
        fill(port, keys, kind)
        filled = time.time() - t0
        dbsize = subprocess.run(["redis-cli", "-p", str(port)] + SIZE[kind], capture_output=True, text=True).stdout.strip()
        while info(port).get("aof_rewrite_in_progress") != "0":  # an automatic rewrite the fill triggered
            time.sleep(0.2)
        time.sleep(1.5)  # let everysec catch up
        before = dir_size(work)
        probe = Probe(port, kind)
        probe.start()
        load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-c", "4", "-n", "100000000", "-q"] + WORKLOAD[kind],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        started = time.perf_counter()
        reply = subprocess.run(["redis-cli", "-p", str(port), "bgrewriteaof"], capture_output=True, text=True).stdout.strip()
        if "started" not in reply:
            raise SystemExit(f"{label}: BGREWRITEAOF answered {reply}")
        while True:
            time.sleep(0.05)
            i = info(port)
            if i.get("aof_rewrite_in_progress") == "0" and i.get("aof_rewrite_scheduled") == "0":
                break
        finished = time.perf_counter()
        time.sleep(0.5)
        probe.running = False
        probe.join()
        load.terminate()
        load.wait()
        load = None
        after = dir_size(work)
        during = sorted(l for t, l in probe.samples if started <= t <= finished)
        baseline = sorted(l for t, l in probe.samples if t < started)

        def pct(xs, q):
            return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else 0.0

        print(f"| {label} | {dbsize} | {filled:.0f} s | {finished - started:.1f} s | {len(during)} | {pct(baseline, 0.99):.2f} | "
              f"{pct(during, 0.5):.2f} | {pct(during, 0.99):.2f} | {(during[-1] * 1000 if during else 0):.1f} | "
              f"{before / 1e6:.0f} MB | {after / 1e6:.0f} MB |")
        sys.stdout.flush()
    finally:
        if load:
            load.kill()
        stop([proc])
        shutil.rmtree(work, ignore_errors=True)


def rewrite(a):
    build()
    kind = "stream" if a.stream else "hash" if a.hash else "set" if a.set else "keys"
    if a.stream:
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; one stream of {a.keys:,} entries, appendfsync everysec; "
              "probe: one client, XADD s * f v one at a time; load: redis-benchmark -c 4 XADD s * f v")
    elif a.hash:
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; one hash of {a.keys:,} fields, appendfsync everysec; "
              "probe: one client, HSET h probe:<i> 1 one at a time; load: redis-benchmark -c 4 -r 100000000 HSET h load:__rand_int__ v")
    elif a.set:
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; one set of {a.keys:,} members, appendfsync everysec; "
              "probe: one client, SADD s probe:<i> one at a time; load: redis-benchmark -c 4 -r 100000000 SADD s load:__rand_int__")
    else:
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; {a.keys:,} keys, appendfsync everysec; probe: one client, "
              "SET one at a time; load: redis-benchmark -c 4 -t set -r 100000")
    print("| server | keys (stream/hash/set: entries) | fill | rewrite | probe writes during | p99 before ms | p50 during ms | p99 during ms | max during ms | AOF before | AOF after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rewrite_once("ours", start_ours, a.keys, kind)
    rewrite_once("redis 7.0", start_redis, a.keys, kind)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--aof", choices=["everysec", "always"], required=True)
    t.add_argument("--requests", type=int, default=200000)
    t.add_argument("--clients", type=int, default=50)
    t.add_argument("--rounds", type=int, default=3, help="measure the four servers in turn this many times")
    r = sub.add_parser("rewrite")
    r.add_argument("--keys", type=int, default=5_000_000)
    one = r.add_mutually_exclusive_group()
    one.add_argument("--stream", action="store_true", help="one stream of --keys entries instead of --keys string keys")
    one.add_argument("--hash", action="store_true", help="one hash of --keys fields instead of --keys string keys")
    one.add_argument("--set", action="store_true", help="one set of --keys members instead of --keys string keys")
    a = ap.parse_args()
    throughput(a) if a.what == "throughput" else rewrite(a)


if __name__ == "__main__":
    main()
