#!/usr/bin/env python3
"""Side-by-side load comparison: StreamServer vs redis-server, same machine, same run.

Starts both servers on free 127.0.0.1 ports (ours from a Release build, or --server-cmd), runs the same bounded
redis-benchmark workloads against each, alternating, and prints throughput, server CPU time per operation (from
/proc/PID/stat before and after each workload) and the ratios. Nothing but 127.0.0.1 is targeted.

  python3 benchmarks/load/compare.py [--requests 200000] [--clients 50] [--pipelines 1,16] [--tests ping,set,get,incr]
                                      [--rounds 1] [--build release|aot] [--wake N] [--group-loop N] [--memory N]

Workloads: ping set get incr xadd xadd-maxlen xrange10 xrange100 (the XRANGE ones read COUNT 10/100 entries from
random starts of a 1,000,000-entry stream, loaded once into both servers with redis-cli --pipe). Before measuring,
every workload runs once unmeasured against both servers (--warmup requests), so our JIT's tiering is done.

--rounds N measures every workload N times, the servers taking turns, and shows the medians (on a shared 2-core
machine a single pass swings by 10-30%); a ratio is the median of the rounds' ratios, each from two passes back to back. The wake-up latency samples take turns between the servers every 50 rounds.
--build aot measures our NativeAOT binary (what the container image runs) instead of the Release build under dotnet.
"""
import argparse, os, re, shutil, socket, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TICKS = os.sysconf("SC_CLK_TCK")

WORKLOADS = {
    "ping": ["PING_MBULK"],  # redis-benchmark -t ping runs PING_INLINE and PING_MBULK; we keep MBULK
    "set": ["SET"],
    "get": ["GET"],
    "incr": ["INCR"],
    "xadd": ["XADD", "s", "*", "f1", "v1"],
    "xadd-maxlen": ["XADD", "s2", "MAXLEN", "~", "10000", "*", "f1", "v1"],
    # __rand_int__ becomes a 12-digit number below -r: an incomplete id (ms only) somewhere in the stream.
    "xrange10": ["-r", str(1_000_000), "XRANGE", "big", "__rand_int__", "+", "COUNT", "10"],
    "xrange100": ["-r", str(1_000_000), "XRANGE", "big", "__rand_int__", "+", "COUNT", "100"],
}
BIG_STREAM_ENTRIES = 1_000_000


def load_big_stream(port):
    """XADD big <i>-1 f1 v1 for i in 1..1,000,000 through redis-cli --pipe (same data in both servers)."""
    def enc(*args):
        return "".join([f"*{len(args)}\r\n"] + [f"${len(a)}\r\n{a}\r\n" for a in args])
    payload = "".join(enc("XADD", "big", f"{i}-1", "f1", "v1") for i in range(1, BIG_STREAM_ENTRIES + 1))
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=payload, capture_output=True, text=True, timeout=900, check=True)
    n = int(subprocess.run(["redis-cli", "-p", str(port), "xlen", "big"], capture_output=True, text=True).stdout.strip() or 0)
    if n != BIG_STREAM_ENTRIES:
        raise SystemExit(f"loading the XRANGE stream on port {port} gave {n} entries")


def medians(runs):
    """Per column, the median over rounds of (throughput, CPU per op) pairs."""
    import statistics
    return tuple(statistics.median(col) for col in zip(*runs))


def paired_ratios(ours, redis):
    """Per column, the median over rounds of ours/redis within the same round (the two ran back to back, so a change
    in the machine's load between rounds falls on both); with one round, the plain ratios."""
    import statistics
    return tuple(statistics.median(o / r if r else 0 for o, r in zip(oc, rc))
                 for oc, rc in zip(zip(*ours), zip(*redis)))


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def wait_ping(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            out = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=2).stdout
            if "PONG" in out:
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not answer")


def run_benchmark(port, name, requests, clients, pipeline):
    if name in ("set", "get", "incr"):
        args = ["-t", name]
    elif name == "ping":
        args = ["-t", "ping_mbulk"]  # -t ping would run PING_INLINE too: twice the requests
    else:
        args = WORKLOADS[name]
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(requests), "-c", str(clients), "-P", str(pipeline), "-q", "--csv"] + args
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    rows = [l for l in out.splitlines() if l.startswith('"') and not l.startswith('"test"')]
    for row in rows:
        cols = [c.strip('"') for c in row.split(",")]
        return float(cols[1])
    return 0.0


def info_field(port, field):
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "memory"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    return 0


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def memory_per_entry(port, pid, entries, group=False):
    """used_memory and RSS growth per entry for `entries` XADDs of `user 1234 amount 42` (and, with group, per
    pending entry after reading them all through a group without ACK)."""
    subprocess.run(["redis-cli", "-p", str(port), "flushall"], capture_output=True)
    # Warm-up, the same for both servers: the code paths run once (our JIT compiles them, a one-time cost that
    # is not per entry), then the data is dropped before the baseline.
    subprocess.run(["redis-benchmark", "-p", str(port), "-n", "20000", "-c", "10", "-P", "64", "-q",
                    "XADD", "mem", "*", "user", "1234", "amount", "42"], capture_output=True, timeout=900)
    subprocess.run(["redis-cli", "-p", str(port), "xgroup", "create", "mem", "g", "0"], capture_output=True)
    subprocess.run(["redis-cli", "-p", str(port), "xreadgroup", "group", "g", "c", "count", "10000", "streams", "mem", ">"], capture_output=True)
    subprocess.run(["redis-cli", "-p", str(port), "flushall"], capture_output=True)
    time.sleep(0.5)
    u0, r0 = info_field(port, "used_memory"), rss_bytes(pid)
    subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(entries), "-c", "10", "-P", "64", "-q",
                    "XADD", "mem", "*", "user", "1234", "amount", "42"], capture_output=True, timeout=900)
    time.sleep(0.5)
    u1, r1 = info_field(port, "used_memory"), rss_bytes(pid)
    result = [(u1 - u0) / entries, (r1 - r0) / entries]
    if group:
        subprocess.run(["redis-cli", "-p", str(port), "xgroup", "create", "mem", "g", "0"], capture_output=True)
        # One consumer reads everything in batches of 10,000 without ACK.
        reads = entries // 10000 + 1
        script = "".join(f"XREADGROUP GROUP g c COUNT 10000 STREAMS mem >\n" for _ in range(reads))
        subprocess.run(["redis-cli", "-p", str(port)], input=script, capture_output=True, text=True, timeout=900)
        time.sleep(0.5)
        u2, r2 = info_field(port, "used_memory"), rss_bytes(pid)
        result += [(u2 - u1) / entries, (r2 - r1) / entries]
    return result


def wake_latency(ports, rounds, chunk=50):
    """p50/p99 from XADD to the blocked XREAD's reply, per server, measured by one client process. The servers take
    turns every `chunk` rounds, so a change in the machine's load during the run falls on both alike."""
    def conn(port):
        s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); return s
    pairs = [(conn(port), conn(port)) for port in ports]
    samples = [[] for _ in ports]
    for start in range(0, rounds, chunk):
        for (reader, writer), out in zip(pairs, samples):
            for i in range(start, min(rounds, start + chunk)):
                reader.sendall(b"*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$7\r\nSTREAMS\r\n$4\r\nwake\r\n$1\r\n$\r\n")
                # Wait until the server has parked the reader, or an XADD could overtake the XREAD ('$' would then
                # wait for the next entry and the round would hang).
                while True:
                    writer.sendall(b"*2\r\n$4\r\nINFO\r\n$7\r\nclients\r\n")
                    info = b""
                    while not info.endswith(b"\r\n") or info.count(b"\r\n") < 2 or len(info) < int(info[1:info.index(b"\r\n")]) + info.index(b"\r\n") + 4:
                        info += writer.recv(65536)
                    if b"blocked_clients:1" in info:
                        break
                t0 = time.perf_counter()
                writer.sendall(b"*5\r\n$4\r\nXADD\r\n$4\r\nwake\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n")
                reader.recv(65536)
                out.append((time.perf_counter() - t0) * 1e6)
                writer.recv(65536)
    for reader, writer in pairs:
        reader.close(); writer.close()
    result = []
    for out in samples:
        out.sort()
        result.append((out[len(out) // 2], out[int(len(out) * 0.99)]))
    return result


def group_loop(port, pid, entries, in_flight):
    """Consumers in a group: each round sends XACK of its previous batch and XREADGROUP COUNT 10 > together.
    Returns (entries/s, server CPU µs per entry). The client is Python for both servers: compare the ratios."""
    import asyncio
    subprocess.run(["redis-cli", "-p", str(port), "del", "gl"], capture_output=True)
    subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(entries), "-c", "10", "-P", "64", "-q",
                    "XADD", "gl", "*", "user", "1234", "amount", "42"], capture_output=True, timeout=900)
    subprocess.run(["redis-cli", "-p", str(port), "xgroup", "create", "gl", "g", "0"], capture_output=True)

    def enc(*args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        return out

    async def read_value(r):
        line = await r.readline()
        t = line[:1]
        if t in b"+-:_,#":
            return line
        if t == b"$":
            n = int(line[1:-2])
            return None if n < 0 else (await r.readexactly(n + 2))[:-2]
        if t in b"*%~>":
            n = int(line[1:-2])
            if n < 0:
                return None
            return [await read_value(r) for _ in range(n * (2 if t == b"%" else 1))]
        raise RuntimeError(line)

    async def consumer(i, totals):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        previous = []
        while True:
            msg = b""
            if previous:
                msg += enc("XACK", "gl", "g", *previous)
            msg += enc("XREADGROUP", "GROUP", "g", f"c{i}", "COUNT", 10, "STREAMS", "gl", ">")
            w.write(msg)
            if previous:
                await read_value(r)
            reply = await read_value(r)
            if not reply:
                break
            previous = [e[0] for e in reply[0][1]]
            totals[0] += len(previous)
        w.close()

    async def run():
        totals = [0]
        await asyncio.gather(*(consumer(i, totals) for i in range(in_flight)))
        return totals[0]

    c0, t0 = cpu_seconds(pid), time.perf_counter()
    done = asyncio.run(run())
    c1, t1 = cpu_seconds(pid), time.perf_counter()
    return done / (t1 - t0), (c1 - c0) * 1e6 / max(done, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--tests", default="ping,set,get,incr")
    ap.add_argument("--memory", type=int, default=0, help="also measure memory per stream/pending entry for N entries")
    ap.add_argument("--wake", type=int, default=0, help="also measure XREAD BLOCK wake-up latency over N rounds")
    ap.add_argument("--group-loop", type=int, default=0, help="also run the consumer-group loop over N entries (1 and 8 in flight)")
    ap.add_argument("--server-cmd", help="command to start our server (PORT is replaced); default: --build")
    ap.add_argument("--build", choices=["release", "aot"], default="release",
                    help="our server as a Release build run by dotnet (JIT), or published with NativeAOT (as the container image ships it)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure every workload this many times, the servers taking turns; the table shows medians")
    ap.add_argument("--warmup", type=int, default=300000,
                    help="unmeasured requests per workload before measuring (0: none); our JIT needs seconds of a workload to finish tiering")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="ss-load-")
    ours_port, redis_port = free_port(), free_port()
    if a.server_cmd:
        ours_cmd = a.server_cmd.replace("PORT", str(ours_port)).split()
    elif a.build == "aot":
        out = os.path.join(work, "aot")
        subprocess.run(["dotnet", "publish", os.path.join(ROOT, "src/StreamServer"), "-c", "Release", "-r", "linux-x64",
                        "-p:PublishAot=true", "-o", out, "-v", "q"], check=True, stdout=subprocess.DEVNULL)
        ours_cmd = [os.path.join(out, "streamserver"), "--port", str(ours_port), "--bind", "127.0.0.1", "--dir", work,
                    "--loglevel", "warning"]
    else:
        subprocess.run(["dotnet", "build", "-c", "Release", "-v", "q", os.path.join(ROOT, "src/StreamServer")], check=True,
                       stdout=subprocess.DEVNULL)
        ours_cmd = ["dotnet", os.path.join(ROOT, "src/StreamServer/bin/Release/net10.0/streamserver.dll"), "--port", str(ours_port),
                    "--bind", "127.0.0.1", "--dir", work, "--loglevel", "warning"]
    ours = subprocess.Popen(ours_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                              "--dir", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ping(ours_port); wait_ping(redis_port)
        pipelines = [int(p) for p in a.pipelines.split(",")]
        build = "--server-cmd" if a.server_cmd else a.build
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; ours: {build}; redis-benchmark -n {a.requests} -c {a.clients}"
              + (f"; median of {a.rounds} rounds, the servers taking turns" if a.rounds > 1 else ""))
        print("| workload | -P | ours ops/s | redis ops/s | ratio | ours CPU µs/op | redis CPU µs/op | CPU ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        tests = [t for t in a.tests.split(",") if t]
        if any(t.startswith("xrange") for t in tests):
            for port in (ours_port, redis_port):
                load_big_stream(port)
        if a.warmup:
            for test in tests:
                for port in (ours_port, redis_port):
                    run_benchmark(port, test, a.warmup, a.clients, max(pipelines))
        for test in tests:
            for p in pipelines:
                results = {"ours": [], "redis": []}
                for _ in range(a.rounds):
                    for label, port, proc in (("ours", ours_port, ours), ("redis", redis_port, redis), ):
                        if not test.startswith("xrange"):
                            subprocess.run(["redis-cli", "-p", str(port), "del", "s", "s2", "key:__rand_int__", "counter:__rand_int__"], capture_output=True)
                        c0 = cpu_seconds(proc.pid)
                        rps = run_benchmark(port, test, a.requests, a.clients, p)
                        c1 = cpu_seconds(proc.pid)
                        results[label].append((rps, (c1 - c0) * 1e6 / a.requests))
                (o, oc), (r, rc) = [medians(results[label]) for label in ("ours", "redis")]
                ratio, cpu_ratio = paired_ratios(results["ours"], results["redis"])
                print(f"| {test} | {p} | {o:,.0f} | {r:,.0f} | {ratio:.2f} | {oc:.2f} | {rc:.2f} | {cpu_ratio:.2f} |")
                sys.stdout.flush()
        if a.wake:
            print()
            print("| XREAD BLOCK wake-up | ours µs | redis µs | ratio |")
            print("|---|---:|---:|---:|")
            if a.warmup:
                wake_latency([ours_port, redis_port], min(a.wake, 1000))  # unmeasured, as every workload
            o, r = wake_latency([ours_port, redis_port], a.wake)
            print(f"| p50 | {o[0]:.0f} | {r[0]:.0f} | {o[0] / r[0]:.2f} |")
            print(f"| p99 | {o[1]:.0f} | {r[1]:.0f} | {o[1] / r[1]:.2f} |")
        if a.group_loop:
            print()
            print(f"| group loop (XREADGROUP COUNT 10 + XACK, {a.group_loop:,} entries) | in flight | ours entries/s | redis entries/s | ratio | ours CPU µs/entry | redis CPU µs/entry | CPU ratio |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
            for n in (1, 8):
                runs = {"ours": [], "redis": []}
                for _ in range(a.rounds):
                    runs["ours"].append(group_loop(ours_port, ours.pid, a.group_loop, n))
                    runs["redis"].append(group_loop(redis_port, redis.pid, a.group_loop, n))
                o, r = medians(runs["ours"]), medians(runs["redis"])
                ratio, cpu_ratio = paired_ratios(runs["ours"], runs["redis"])
                print(f"| | {n} | {o[0]:,.0f} | {r[0]:,.0f} | {ratio:.2f} | {o[1]:.2f} | {r[1]:.2f} | {cpu_ratio:.2f} |")
                sys.stdout.flush()
        if a.memory:
            print()
            print(f"| memory ({a.memory:,} entries `user 1234 amount 42`) | ours B | redis B | ratio |")
            print("|---|---:|---:|---:|")
            o = memory_per_entry(ours_port, ours.pid, a.memory, group=True)
            r = memory_per_entry(redis_port, redis.pid, a.memory, group=True)
            names = ["used_memory per stream entry", "RSS per stream entry", "used_memory per pending entry", "RSS per pending entry"]
            for n, x, y in zip(names, o, r):
                print(f"| {n} | {x:.1f} | {y:.1f} | {x / y if y else 0:.2f} |")
    finally:
        for proc in (ours, redis):
            proc.terminate()
            try: proc.wait(10)
            except Exception: proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
